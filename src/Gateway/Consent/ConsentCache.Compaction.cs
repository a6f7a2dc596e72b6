namespace ConsentGateway.Consent;

/// <summary>The size bound: background compaction of L1 once it reaches the limit.</summary>
internal sealed partial class ConsentCache
{
    private void StartCompaction()
    {
        if (Interlocked.CompareExchange(ref _compacting, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static self => self.Compact(), this, preferLocal: false);
        }
    }

    /// <summary>
    /// Frees a tenth of the limit (at least one entry): first entries no lookup can use any more (old
    /// generation, or past the stale window), then the ones fetched longest ago. Runs on the thread pool,
    /// one at a time.
    /// </summary>
    private void Compact()
    {
        try
        {
            var generation = _hub.Generation;
            var now = Now();
            var candidates = new List<(long FetchedAt, KeyValuePair<string, Slot> Pair)>();
            long live = 0;
            foreach (var pair in _l1)
            {
                var e = pair.Value.Entry;
                if (e.Generation != generation || now >= StaleUntil(e))
                {
                    if (_l1.TryRemove(pair))
                    {
                        continue;
                    }
                }

                live++;
                candidates.Add((FetchedAt(e), pair));
            }

            var target = _sizeLimit - Math.Max(1, _sizeLimit / 10);
            var excess = live - target;
            if (excess > 0)
            {
                candidates.Sort(static (a, b) => a.FetchedAt.CompareTo(b.FetchedAt));
                for (var i = 0; i < excess && i < candidates.Count; i++)
                {
                    // Only if unchanged: an entry refreshed since the scan is young again.
                    if (_l1.TryRemove(candidates[i].Pair))
                    {
                        live--;
                    }
                }
            }

            Volatile.Write(ref _count, live);
        }
        finally
        {
            Volatile.Write(ref _compacting, 0);
        }
    }
}
