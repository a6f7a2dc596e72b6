using System.Collections.Concurrent;
using ConsentGateway.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConsentGateway.Consent;

/// <summary>
/// In-process consent store for the quick start and single-instance use: no Redis needed, nothing
/// persisted, nothing shared between instances. Same semantics as the Redis store (per-subject
/// version bumped by every write, erase forgets the subject and its version).
/// </summary>
internal sealed class EmbeddedConsentStore : IConsentStore, IConsentStoreHealth, IHostedService, IConsentEventStore
{
    private readonly ConcurrentDictionary<string, SubjectConsent> _subjects = new(StringComparer.Ordinal);

    // Ingested event ids and when each may be forgotten (Consent:EventIdTtl); guarded by _writeGate.
    private readonly Dictionary<string, DateTimeOffset> _eventIds = new(StringComparer.Ordinal);
    private DateTimeOffset _nextEventIdSweep;

    // Writes are admin-plane and rare: one lock keeps read-modify-write simple; reads never take it.
    private readonly Lock _writeGate = new();
    private readonly ConsentInvalidation _hub;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _eventIdTtl;

    public EmbeddedConsentStore(ConsentInvalidation hub, GatewayMetrics metrics, TimeProvider time, ILogger<EmbeddedConsentStore> logger, IOptions<ConsentOptions>? options = null)
    {
        _eventIdTtl = options?.Value.EventIdTtl ?? new ConsentOptions().EventIdTtl;
        _hub = hub;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    public string Kind => "embedded";

    public bool IsAvailable => true;

    public bool IsSubscribed => true;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        ConsentLog.EmbeddedStoreInUse(_logger);
        _metrics.StoreUp.Set(1);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask<StoreRead> ReadAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subject);
        return new ValueTask<StoreRead>(new StoreRead(true, _subjects.TryGetValue(subject, out var consent) ? consent : null));
    }

    public ValueTask<ConsentReceipt> SetPurposeAsync(string subject, string purpose, ConsentStatus? status, DateTimeOffset? expiresAt, string? source, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        var now = _time.GetUtcNow();
        long version;
        lock (_writeGate)
        {
            var current = _subjects.GetValueOrDefault(subject) ?? SubjectConsent.Empty;
            var purposes = new List<PurposeConsent>(current.Purposes.Length + 1);
            foreach (var p in current.Purposes)
            {
                if (!string.Equals(p.Purpose, purpose, StringComparison.Ordinal))
                {
                    purposes.Add(p);
                }
            }

            if (status is { } s)
            {
                // An admin write is a decision made now: it orders against consent events like one that occurred now.
                purposes.Add(new PurposeConsent(purpose, s, expiresAt, now, source) { OccurredAt = now });
            }

            version = current.Version + 1;
            _subjects[subject] = new SubjectConsent(version, current.Gpc, [.. purposes]) { GpcOccurredAt = current.GpcOccurredAt };
        }

        _hub.Invalidate(subject);
        return new ValueTask<ConsentReceipt>(new ConsentReceipt(subject, purpose, ConsentReceipts.StatusName(status), now, version));
    }

    public ValueTask<ConsentReceipt> SetGpcAsync(string subject, bool gpc, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        var now = _time.GetUtcNow();
        long version;
        lock (_writeGate)
        {
            var current = _subjects.GetValueOrDefault(subject) ?? SubjectConsent.Empty;
            version = current.Version + 1;
            _subjects[subject] = new SubjectConsent(version, gpc, current.Purposes); // as in Redis: an admin write carries no event time
        }

        _hub.Invalidate(subject);
        return new ValueTask<ConsentReceipt>(ConsentReceipts.Gpc(subject, gpc, now, version));
    }

    public ValueTask<ConsentEventResult> ApplyEventAsync(ConsentEvent consentEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consentEvent);
        var now = _time.GetUtcNow();
        var subject = consentEvent.Subject;
        long version;
        lock (_writeGate)
        {
            SweepEventIds(now);
            if (_eventIds.TryGetValue(consentEvent.EventId, out var forgetAt) && forgetAt > now)
            {
                return new ValueTask<ConsentEventResult>(new ConsentEventResult(ConsentEventOutcome.Duplicate, 0, now));
            }

            _eventIds[consentEvent.EventId] = now + _eventIdTtl;
            var current = _subjects.GetValueOrDefault(subject) ?? SubjectConsent.Empty;
            var stored = consentEvent.IsGpc ? current.GpcOccurredAt : current.Find(consentEvent.Purpose!)?.OccurredAt;
            if (stored is { } s && string.CompareOrdinal(ConsentEvent.OrderKey(consentEvent.OccurredAt), ConsentEvent.OrderKey(s)) < 0)
            {
                return new ValueTask<ConsentEventResult>(new ConsentEventResult(ConsentEventOutcome.Superseded, current.Version, now));
            }

            version = current.Version + 1;
            if (consentEvent.IsGpc)
            {
                _subjects[subject] = new SubjectConsent(version, consentEvent.Gpc, current.Purposes) { GpcOccurredAt = consentEvent.OccurredAt };
            }
            else
            {
                var purposes = new List<PurposeConsent>(current.Purposes.Length + 1);
                foreach (var p in current.Purposes)
                {
                    if (!string.Equals(p.Purpose, consentEvent.Purpose, StringComparison.Ordinal))
                    {
                        purposes.Add(p);
                    }
                }

                purposes.Add(new PurposeConsent(consentEvent.Purpose!, consentEvent.Status, consentEvent.StoredExpiresAt, now, consentEvent.Source) { OccurredAt = consentEvent.OccurredAt });
                _subjects[subject] = new SubjectConsent(version, current.Gpc, [.. purposes]) { GpcOccurredAt = current.GpcOccurredAt };
            }
        }

        _hub.Invalidate(subject);
        return new ValueTask<ConsentEventResult>(new ConsentEventResult(ConsentEventOutcome.Applied, version, now));
    }

    // Forget expired event ids at most once a minute (callers hold _writeGate).
    private void SweepEventIds(DateTimeOffset now)
    {
        if (now < _nextEventIdSweep)
        {
            return;
        }

        _nextEventIdSweep = now + TimeSpan.FromMinutes(1);
        foreach (var (id, forgetAt) in _eventIds)
        {
            if (forgetAt <= now)
            {
                _eventIds.Remove(id);
            }
        }
    }

    public ValueTask<ConsentReceipt> EraseAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        var now = _time.GetUtcNow();
        lock (_writeGate)
        {
            _subjects.TryRemove(subject, out _);
        }

        _hub.Invalidate(subject);
        return new ValueTask<ConsentReceipt>(ConsentReceipts.Erased(subject, now));
    }
}

/// <summary>Receipt vocabulary shared by both stores, so the admin API sees the same words from either.</summary>
internal static class ConsentReceipts
{
    /// <summary>Purpose named in GPC receipts.</summary>
    public const string GpcPurpose = "gpc";

    /// <summary>Purpose named in erase receipts: every purpose.</summary>
    public const string AllPurposes = "*";

    public static string StatusName(ConsentStatus? status) => status switch
    {
        ConsentStatus.Granted => "granted",
        ConsentStatus.Denied => "denied",
        null => "cleared",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static ConsentReceipt Gpc(string subject, bool gpc, DateTimeOffset at, long version) =>
        new(subject, GpcPurpose, gpc ? "recorded" : "cleared", at, version);

    /// <summary>Version 0: the subject, its version counter included, no longer exists.</summary>
    public static ConsentReceipt Erased(string subject, DateTimeOffset at) =>
        new(subject, AllPurposes, "erased", at, 0);
}
