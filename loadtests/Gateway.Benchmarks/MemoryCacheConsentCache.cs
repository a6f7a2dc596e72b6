using System.Collections.Concurrent;
using ConsentGateway.Observability;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;

using ConsentGateway.Consent;

namespace ConsentGateway.Benchmarks;

/// <summary>
/// BEFORE (kept for before/after benchmarks only): the MemoryCache-based ConsentCache as it was.
/// L1: a bounded in-process cache in front of the consent store, with single flight, a deadline per
/// lookup and the stale rules of SPEC §5.
/// </summary>
/// <remarks>
/// Metrics: every lookup counts once as <c>tier=l1</c> (<c>hit</c> or <c>miss</c>); every miss then counts
/// once more by how it was answered: <c>store/found</c>, <c>store/not_found</c>, <c>stale/hit</c> or
/// <c>none/unavailable</c>. Lookups = sum of tier="l1".
/// A subject with no record is answered with an empty <see cref="CompactConsent"/>, so
/// <see cref="ConsentLookupResult.Consent"/> is non-null whenever the result is known.
/// <para>
/// Since lookups answer with <see cref="CompactConsent"/>, this baseline caches that projection too
/// (made on write-back, as the current cache does), so the two differ only in their cache structures.
/// </para>
/// </remarks>
internal sealed class MemoryCacheConsentCache : IConsentLookup, IDisposable
{
    private readonly IConsentStore _store;
    private readonly ConsentInvalidation _hub;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MemoryCache _l1;
    private readonly ConcurrentDictionary<string, Flight> _flights = new(StringComparer.Ordinal);

    // MemoryCache expiry is not used: entries past their TTL must survive to be served stale, so
    // freshness is judged here (on TimeProvider timestamps) and the size limit bounds memory.
    private static readonly MemoryCacheEntryOptions EntryOptions = new() { Size = 1 };

    private readonly long _ttl;
    private readonly long _negativeTtl;
    private readonly long _staleGrantWindow;
    private readonly TimeSpan _lookupTimeout;
    private readonly TimeSpan _storeTimeout;

    // Resolved once: WithLabels allocates, and the hit path must not.
    private readonly Counter.Child _l1Hit;
    private readonly Counter.Child _l1Miss;
    private readonly Counter.Child _storeFound;
    private readonly Counter.Child _storeNotFound;
    private readonly Counter.Child _staleHit;
    private readonly Counter.Child _unavailable;
    private readonly Histogram _storeDuration;

    public MemoryCacheConsentCache(
        IConsentStore store,
        ConsentInvalidation hub,
        IOptions<ConsentOptions> options,
        GatewayMetrics metrics,
        TimeProvider time,
        ILogger<MemoryCacheConsentCache> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        _store = store;
        _hub = hub;
        _time = time;
        _logger = logger;
        var o = options.Value;
        _l1 = new MemoryCache(new MemoryCacheOptions { SizeLimit = o.CacheSizeLimit });
        _ttl = ToTimestampTicks(o.CacheTtl, time);
        _negativeTtl = ToTimestampTicks(o.NegativeCacheTtl, time);
        _staleGrantWindow = ToTimestampTicks(o.StaleGrantWindow, time);
        _lookupTimeout = o.LookupTimeout;
        _storeTimeout = o.StoreTimeout;

        _l1Hit = metrics.ConsentLookups.WithLabels("l1", "hit");
        _l1Miss = metrics.ConsentLookups.WithLabels("l1", "miss");
        _storeFound = metrics.ConsentLookups.WithLabels("store", "found");
        _storeNotFound = metrics.ConsentLookups.WithLabels("store", "not_found");
        _staleHit = metrics.ConsentLookups.WithLabels("stale", "hit");
        _unavailable = metrics.ConsentLookups.WithLabels("none", "unavailable");
        _storeDuration = metrics.StoreDuration;

        _hub.SubjectInvalidated += Invalidate;
        _hub.AllInvalidated += OnAllInvalidated;
    }

    public ValueTask<ConsentLookupResult> LookupAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        if (_hub.NotificationsFlowing
            && _l1.TryGetValue(subject, out var boxed)
            && boxed is Entry entry
            && entry.Generation == _hub.Generation
            && _time.GetTimestamp() < entry.FreshUntil)
        {
            _l1Hit.Inc();
            return new ValueTask<ConsentLookupResult>(new ConsentLookupResult(entry.Consent, ConsentSource.L1));
        }

        _l1Miss.Inc();
        return new ValueTask<ConsentLookupResult>(MissAsync(subject, cancellationToken));
    }

    /// <summary>
    /// Forget one subject. A read already in flight for it may have started before the change, so it
    /// is marked and will not write its answer into L1; later callers start a fresh read.
    /// </summary>
    public void Invalidate(string subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (_flights.TryGetValue(subject, out var flight))
        {
            // Under the flight's lock so a write-back is either fully before (and removed below) or sees the mark.
            lock (flight)
            {
                flight.Invalidated = true;
            }
        }

        _l1.Remove(subject);
    }

    /// <summary>Distrust every cached entry and every read in flight (used when change notifications may have been lost).</summary>
    public void InvalidateAll() => _hub.InvalidateAll();

    public void Dispose()
    {
        _hub.SubjectInvalidated -= Invalidate;
        _hub.AllInvalidated -= OnAllInvalidated;
        _l1.Dispose();
    }

    // The generation bump already makes old entries unusable; clearing just gives the memory back.
    private void OnAllInvalidated() => _l1.Clear();

    private async Task<ConsentLookupResult> MissAsync(string subject, CancellationToken cancellationToken)
    {
        var flight = JoinFlight(subject);
        StoreRead read;
        try
        {
            read = await flight.Completion.Task.WaitAsync(_lookupTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            read = StoreRead.Failed;
        }

        if (read.Succeeded)
        {
            (read.Consent is null ? _storeNotFound : _storeFound).Inc();
            return new ConsentLookupResult(CompactConsent.From(read.Consent), ConsentSource.Store);
        }

        return Fallback(subject);
    }

    private ConsentLookupResult Fallback(string subject)
    {
        // Re-read L1 rather than reuse what the miss saw: another flight may have refreshed it since.
        if (_l1.TryGetValue(subject, out var boxed) && boxed is Entry entry && entry.Generation == _hub.Generation)
        {
            // Within the window any entry may be served; the window bounds how late a revocation can
            // take effect. Past it, nothing is: "no record" lets legitimate-interest and opt-out data
            // through, so it cannot be served indefinitely either, and a stale denial past the window
            // would decide exactly as failing closed does (only contract / legal-obligation pass).
            if (_time.GetTimestamp() < entry.FetchedAt + _ttl + _staleGrantWindow)
            {
                _staleHit.Inc();
                ConsentLog.LookupFallback(_logger, "stale");
                return new ConsentLookupResult(entry.Consent, ConsentSource.Stale);
            }
        }

        _unavailable.Inc();
        ConsentLog.LookupFallback(_logger, "unavailable");
        return ConsentLookupResult.Unavailable;
    }

    private Flight JoinFlight(string subject)
    {
        while (true)
        {
            var generation = _hub.Generation;
            if (_flights.TryGetValue(subject, out var existing))
            {
                // A flight that began before an invalidation may carry the old value: do not join it.
                if (!existing.Invalidated && existing.Generation == generation)
                {
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

        if (read.Succeeded)
        {
            WriteBack(flight, read.Consent);
        }

        // Only after the write-back, so Invalidate either finds this flight or finds its entry.
        _flights.TryRemove(new KeyValuePair<string, Flight>(flight.Subject, flight));
        flight.Completion.TrySetResult(read);
    }

    private void WriteBack(Flight flight, SubjectConsent? consent)
    {
        lock (flight)
        {
            if (flight.Invalidated || flight.Generation != _hub.Generation)
            {
                return;
            }

            if (consent is not null
                && _l1.TryGetValue(flight.Subject, out var boxed)
                && boxed is Entry current
                && current.Generation == flight.Generation
                && current.Consent.Version > consent.Version)
            {
                return; // never replace a newer snapshot with an older one
            }

            var now = _time.GetTimestamp();
            var value = CompactConsent.From(consent);
            var entry = new Entry(value, now, now + (consent is null ? _negativeTtl : _ttl), flight.Generation);
            _l1.Set(flight.Subject, entry, EntryOptions);
        }
    }

    private static long ToTimestampTicks(TimeSpan span, TimeProvider time) =>
        (long)(span.TotalSeconds * time.TimestampFrequency);

    /// <summary>Immutable L1 value; times are TimeProvider timestamps.</summary>
    private sealed class Entry(CompactConsent consent, long fetchedAt, long freshUntil, long generation)
    {
        public CompactConsent Consent { get; } = consent;
        public long FetchedAt { get; } = fetchedAt;
        public long FreshUntil { get; } = freshUntil;
        public long Generation { get; } = generation;
    }

    private sealed class Flight(string subject, long generation)
    {
        public string Subject { get; } = subject;
        public long Generation { get; } = generation;

        // Continuations off the completing thread: the store's I/O thread must not run request code.
        public TaskCompletionSource<StoreRead> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private volatile bool _invalidated;

        public bool Invalidated
        {
            get => _invalidated;
            set => _invalidated = value;
        }
    }
}
