using System.Collections.Concurrent;
using ConsentGateway.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ConsentGateway.Consent;

/// <summary>
/// In-process consent store for the quick start and single-instance use: no Redis needed, nothing
/// persisted, nothing shared between instances. Same semantics as the Redis store (per-subject
/// version bumped by every write, erase forgets the subject and its version).
/// </summary>
internal sealed class EmbeddedConsentStore : IConsentStore, IConsentStoreHealth, IHostedService
{
    private readonly ConcurrentDictionary<string, SubjectConsent> _subjects = new(StringComparer.Ordinal);

    // Writes are admin-plane and rare: one lock keeps read-modify-write simple; reads never take it.
    private readonly Lock _writeGate = new();
    private readonly ConsentInvalidation _hub;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public EmbeddedConsentStore(ConsentInvalidation hub, GatewayMetrics metrics, TimeProvider time, ILogger<EmbeddedConsentStore> logger)
    {
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
                purposes.Add(new PurposeConsent(purpose, s, expiresAt, now, source));
            }

            version = current.Version + 1;
            _subjects[subject] = new SubjectConsent(version, current.Gpc, [.. purposes]);
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
            _subjects[subject] = new SubjectConsent(version, gpc, current.Purposes);
        }

        _hub.Invalidate(subject);
        return new ValueTask<ConsentReceipt>(ConsentReceipts.Gpc(subject, gpc, now, version));
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
