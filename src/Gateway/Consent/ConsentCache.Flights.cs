using System.Runtime.CompilerServices;

namespace ConsentGateway.Consent;

/// <summary>Misses: the single-flight store read with its own deadline, its write-back into L1, and the stale fallback.</summary>
internal sealed partial class ConsentCache
{
    private async Task<ConsentLookupResult> MissAsync(string subject, CancellationToken cancellationToken)
    {
        var flight = JoinFlight(subject, out _);
        CompactConsent? answer;
        try
        {
            answer = await flight.Completion.Task.WaitAsync(_lookupTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            answer = null;
        }

        if (answer is not null)
        {
            (answer.NotFound ? _storeNotFound : _storeFound).Inc();
            return new ConsentLookupResult(answer, ConsentSource.Store);
        }

        return Fallback(subject);
    }

    private ConsentLookupResult Fallback(string subject)
    {
        // Re-read L1 rather than reuse what the miss saw: another flight may have refreshed it since.
        if (_l1.TryGetValue(subject, out var slot) && slot.Entry is var entry && entry.Generation == _hub.Generation)
        {
            // Within the window any entry may be served; the window bounds how late a revocation can
            // take effect. Past it, nothing is: "no record" lets legitimate-interest and opt-out data
            // through, so it cannot be served indefinitely either, and a stale denial past the window
            // would decide exactly as failing closed does (only contract / legal-obligation pass).
            if (Now() < StaleUntil(entry))
            {
                _staleHit.Inc();
                ConsentLog.LookupFallback(_logger, "stale");
                return new ConsentLookupResult(entry, ConsentSource.Stale);
            }
        }

        _unavailable.Inc();
        ConsentLog.LookupFallback(_logger, "unavailable");
        return ConsentLookupResult.Unavailable;
    }

    /// <summary>
    /// A hit late in its entry's TTL: start the store read a miss would start (same single flight, deadline,
    /// invalidation and write-back rules) unless one is under way, and return at once. The caller is answered from
    /// L1; the read's answer replaces the entry before it expires, so a subject in steady use is read once per TTL
    /// and no request of its waits on the store. Were the store slow or failing, the entry simply runs out and the
    /// next lookup takes the miss path, as it would have without this.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // rare: kept out of the hit path's code
    private void RefreshAhead(string subject)
    {
        JoinFlight(subject, out var started);
        if (started)
        {
            _refreshStarted.Inc();
        }
    }

    /// <param name="started">Whether this call started the read (rather than joining one under way).</param>
    private Flight JoinFlight(string subject, out bool started)
    {
        started = true;
        while (true)
        {
            var generation = _hub.Generation;
            if (_flights.TryGetValue(subject, out var existing))
            {
                // A flight that began before an invalidation may carry the old value: do not join it.
                if (!existing.Invalidated && existing.Generation == generation)
                {
                    started = false;
                    return existing;
                }

                var replacement = new Flight(subject, generation);
                if (_flights.TryUpdate(subject, replacement, existing))
                {
                    _ = RunFlightAsync(replacement);
                    return replacement;
                }

                continue;
            }

            var mine = new Flight(subject, generation);
            if (_flights.TryAdd(subject, mine))
            {
                _ = RunFlightAsync(mine);
                return mine;
            }
        }
    }

    /// <summary>The one store read shared by every caller that missed on this subject meanwhile. Never faults.</summary>
    private async Task RunFlightAsync(Flight flight)
    {
        var started = _time.GetTimestamp();
        StoreRead read;
        try
        {
            // Own deadline, independent of any caller's: callers give up at LookupTimeout, the read
            // may go on to StoreTimeout and still refresh L1. WaitAsync guards against a store that
            // ignores cancellation, which would otherwise pin this flight forever.
            using var deadline = new CancellationTokenSource(_storeTimeout, _time);
            read = await _store.ReadAsync(flight.Subject, deadline.Token).AsTask().WaitAsync(deadline.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The store contract says failures are states; a throwing store must still fail closed.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ConsentLog.StoreReadFailed(_logger, ex);
            read = StoreRead.Failed;
        }

        _storeDuration.Observe(_time.GetElapsedTime(started).TotalSeconds);

        // Projected once here for every caller waiting on this flight, and already shaped as L1's entry.
        CompactConsent? answer = null;
        if (read.Succeeded)
        {
            var now = Now();
            answer = CompactConsent.Project(read.Consent, now + (read.Consent is null ? _negativeTtl : _ttl), flight.Generation, _names, out var shared);
            WriteBack(flight, answer, shared);
        }

        // Only after the write-back, so Invalidate either finds this flight or finds its entry.
        _flights.TryRemove(new KeyValuePair<string, Flight>(flight.Subject, flight));
        flight.Completion.TrySetResult(answer);
    }

    /// <param name="shared">False when the entry names a purpose the intern table had no room for: it is then not
    /// kept, so L1's memory stays bounded by the table, and an older entry is removed rather than left answering.</param>
    private void WriteBack(Flight flight, CompactConsent entry, bool shared)
    {
        lock (flight)
        {
            if (flight.Invalidated || flight.Generation != _hub.Generation)
            {
                return;
            }

            while (true)
            {
                if (_l1.TryGetValue(flight.Subject, out var found))
                {
                    var current = found.Entry;
                    if (!entry.NotFound
                        && current.Generation == flight.Generation
                        && current.Version > entry.Version)
                    {
                        return; // never replace a newer snapshot with an older one
                    }

                    if (shared ? _l1.TryUpdate(flight.Subject, new Slot(entry), found) : TryRemove(flight.Subject, current))
                    {
                        return;
                    }

                    continue; // replaced or removed meanwhile: decide again
                }

                if (!shared)
                {
                    return;
                }

                if (Volatile.Read(ref _count) >= _sizeLimit)
                {
                    // Full: like MemoryCache under its size limit, the entry is not stored and space is made in the background.
                    StartCompaction();
                    return;
                }

                if (_l1.TryAdd(flight.Subject, new Slot(entry)))
                {
                    if (Interlocked.Increment(ref _count) >= _sizeLimit)
                    {
                        StartCompaction();
                    }

                    return;
                }
            }
        }
    }

    private bool TryRemove(string subject, CompactConsent entry)
    {
        if (_l1.TryRemove(new KeyValuePair<string, Slot>(subject, new Slot(entry))))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    // The fetch time is not stored (it would cost 8 B an entry): it is the fresh-until stamp less the TTL the entry was given.
    private long FetchedAt(CompactConsent entry) => entry.FreshUntil - (entry.NotFound ? _negativeTtl : _ttl);

    // As before the projection: the window counts from the fetch plus the positive TTL, for found and not-found entries alike.
    private long StaleUntil(CompactConsent entry) => FetchedAt(entry) + _ttl + _staleGrantWindow;

    private sealed class Flight(string subject, long generation)
    {
        public string Subject { get; } = subject;
        public long Generation { get; } = generation;

        // Continuations off the completing thread: the store's I/O thread must not run request code.
        // The result is the projected answer, or null when the store read failed.
        public TaskCompletionSource<CompactConsent?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private volatile bool _invalidated;

        public bool Invalidated
        {
            get => _invalidated;
            set => _invalidated = value;
        }
    }
}
