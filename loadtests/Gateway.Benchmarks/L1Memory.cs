using System.Diagnostics;
using System.Globalization;
using System.Text;
using ConsentGateway.Consent;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace ConsentGateway.Benchmarks;

/// <summary>
/// Target 4 (console mode --l1-memory [count]): managed heap per cached subject. Fills an L1 with
/// distinct subjects (UUID-shaped ids, 36 chars) whose records come from the Redis format parser
/// (half with one purpose, half with two), exactly as a Redis-backed gateway would build them, and
/// compares GC.GetTotalMemory(true) before and after. Then measures the parts alone (subject
/// strings; the store's records, which L1 no longer keeps; their compact L1 projections) so the
/// cache's own overhead per entry can be separated.
/// </summary>
internal static class L1Memory
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var legacy = args.Length > 1 && args[1] == "before";
        Console.WriteLine($"L1 memory ({(legacy ? "before: MemoryCache-based" : "after: current ConsentCache")}), {count:N0} subjects, .NET {Environment.Version}, server GC={System.Runtime.GCSettings.IsServerGC}");

        // Parts alone: subject strings, records, L1 values, each held by an array whose own size is subtracted.
        var strings = MeasureHeld(count, i => SubjectId(i));
        var records1 = MeasureHeld(count, i => RecordStore.Build(i));
        var values = MeasureHeld(count, i => CompactConsent.From(RecordStore.Build(i)));
        Console.WriteLine($"subject id string (36 chars): {strings:F1} B");
        Console.WriteLine($"store record (RedisConsentFormat.Parse, avg of 1 and 2 purposes; not kept by L1): {records1:F1} B");
        Console.WriteLine($"L1 value (CompactConsent projection of that record): {values:F1} B");

        var store = new RecordStore();
        // A long TTL so no entry turns stale while the heap is measured.
        IConsentLookup cache = legacy
            ? Setup.LegacyCache(store, sizeLimit: count * 2L, ttl: TimeSpan.FromHours(1))
            : Setup.Cache(store, sizeLimit: count * 2L, ttl: TimeSpan.FromHours(1));
        using var owned = (IDisposable)cache;
        var before = Settle();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var r = await cache.LookupAsync(SubjectId(i), CancellationToken.None).ConfigureAwait(false);
            if (r.Source != ConsentSource.Store)
            {
                throw new InvalidOperationException($"subject {i}: {r.Source}");
            }
        }

        var filled = sw.Elapsed;
        var after = Settle();

        // Every subject must still be cached (an eviction would make the figure meaningless).
        var hits = 0;
        for (var i = 0; i < count; i += 97)
        {
            if ((await cache.LookupAsync(SubjectId(i), CancellationToken.None).ConfigureAwait(false)).Source == ConsentSource.L1)
            {
                hits++;
            }
        }

        var sampled = (count + 96) / 97;
        var perSubject = (after - before) / (double)count;
        Console.WriteLine($"filled in {filled.TotalSeconds:F1} s; sampled L1 hits {hits}/{sampled}");
        Console.WriteLine($"heap before {before:N0} B, after {after:N0} B");
        Console.WriteLine($"L1 memory per cached subject: {perSubject:F1} B");
        Console.WriteLine($"  of which subject key string ~{strings:F1} B, L1 value ~{values:F1} B, cache structures (node, buckets) ~{perSubject - strings - values:F1} B");
        GC.KeepAlive(cache);
        return hits == sampled ? 0 : 1;
    }

    internal static string SubjectId(int i) => new Guid(i, 0x7d7e, 0x4f3a, 0x9a, 0x66, 0x0c, 0x1f, 0x2d, 0x3e, 0x4b, 0x5a).ToString();

    private static long Settle()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static double MeasureHeld(int count, Func<int, object> make)
    {
        var holder = new object[count];
        var before = Settle();
        for (var i = 0; i < count; i++)
        {
            holder[i] = make(i);
        }

        var after = Settle();
        GC.KeepAlive(holder);
        return (after - before) / (double)count;
    }

    /// <summary>Builds each subject's record the way the Redis store does, from hash fields.</summary>
    private sealed class RecordStore : IConsentStore
    {
        private static readonly byte[] Granted = RedisConsentFormat.FormatPurpose(ConsentStatus.Granted, DateTimeOffset.UtcNow.AddYears(1), DateTimeOffset.UtcNow, "web");
        private static readonly byte[] Denied = RedisConsentFormat.FormatPurpose(ConsentStatus.Denied, null, DateTimeOffset.UtcNow, "app");

        public static SubjectConsent Build(int i)
        {
            HashEntry[] fields = i % 2 == 0
                ? [new("v", 3), new("p:marketing", Granted)]
                : [new("v", 5), new("p:marketing", Granted), new("p:analytics", Denied)];
            return RedisConsentFormat.Parse(fields, NullLogger.Instance)!;
        }

        public ValueTask<StoreRead> ReadAsync(string subject, CancellationToken cancellationToken) =>
            new(new StoreRead(true, Build(subject[7] % 2)));

        public ValueTask<ConsentReceipt> SetPurposeAsync(string subject, string purpose, ConsentStatus? status, DateTimeOffset? expiresAt, string? source, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<ConsentReceipt> SetGpcAsync(string subject, bool gpc, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<ConsentReceipt> EraseAsync(string subject, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
