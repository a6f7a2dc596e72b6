namespace ConsentGateway.Consent;

internal enum ConsentStatus : byte
{
    Granted = 1,
    Denied = 2,
}

/// <summary>One purpose's recorded state for one subject.</summary>
internal sealed record PurposeConsent(
    string Purpose,
    ConsentStatus Status,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset UpdatedAt,
    string? Source)
{
    /// <summary>
    /// When the decision was made at its source (the <c>occurredAt</c> of the winning consent event, or
    /// the time of an admin write); null when the writer did not say. Orders events, never decides access.
    /// </summary>
    public DateTimeOffset? OccurredAt { get; init; }
}

/// <summary>
/// Immutable snapshot of everything the store records about one subject, as the stores and the admin
/// API use it. L1 does not keep it: it keeps the <see cref="CompactConsent"/> projection.
/// </summary>
internal sealed class SubjectConsent
{
    public static readonly SubjectConsent Empty = new(0, false, []);

    public SubjectConsent(long version, bool gpc, PurposeConsent[] purposes)
    {
        Version = version;
        Gpc = gpc;
        Purposes = purposes;
    }

    /// <summary>Monotonic per-subject version, bumped by every write.</summary>
    public long Version { get; }

    /// <summary>Global Privacy Control recorded for the subject.</summary>
    public bool Gpc { get; }

    public PurposeConsent[] Purposes { get; }

    /// <summary><c>occurredAt</c> of the consent event that last set <see cref="Gpc"/>; null when unknown.</summary>
    public DateTimeOffset? GpcOccurredAt { get; init; }

    public bool IsEmpty => Purposes.Length == 0 && !Gpc;

    public PurposeConsent? Find(string purpose)
    {
        // A handful of purposes per subject: a linear ordinal scan beats hashing.
        foreach (var p in Purposes)
        {
            if (string.Equals(p.Purpose, purpose, StringComparison.Ordinal))
            {
                return p;
            }
        }

        return null;
    }
}

/// <summary>Which tier answered a lookup, for metrics and the fail-closed rule.</summary>
internal enum ConsentSource : byte
{
    L1 = 0,
    Store = 1,
    /// <summary>Served from L1 past its TTL because the store could not answer in time.</summary>
    Stale = 2,
    /// <summary>Nothing trustworthy is known: evaluate as if no consent exists and no objection can be trusted.</summary>
    Unavailable = 3,
}

/// <summary>
/// The answer to "what do we know about this subject right now", in the compact form evaluation needs.
/// When <see cref="Source"/> is <see cref="ConsentSource.Unavailable"/>, <see cref="Consent"/> is null and
/// evaluation must fail closed (only contract / legal-obligation purposes pass).
/// </summary>
internal readonly record struct ConsentLookupResult(CompactConsent? Consent, ConsentSource Source)
{
    public bool IsKnown => Source != ConsentSource.Unavailable;

    public static ConsentLookupResult Unavailable => new(null, ConsentSource.Unavailable);
}

/// <summary>Receipt returned for every consent write (SPEC §6).</summary>
internal sealed record ConsentReceipt(string Subject, string Purpose, string Status, DateTimeOffset EffectiveAt, long Version);

/// <summary>Reads consent for the proxy. Never throws for store failures: they surface as <see cref="ConsentSource.Unavailable"/>.</summary>
internal interface IConsentLookup
{
    ValueTask<ConsentLookupResult> LookupAsync(string subject, CancellationToken cancellationToken);
}

/// <summary>Health of the consent store as shown by /readyz and consent_store_up.</summary>
internal interface IConsentStoreHealth
{
    /// <summary>"embedded", "redis".</summary>
    string Kind { get; }

    bool IsAvailable { get; }

    /// <summary>Whether change notifications are flowing (always true for the embedded store).</summary>
    bool IsSubscribed { get; }
}

/// <summary>
/// L2: the authoritative store (Redis, or the embedded in-process store). Reads report failure
/// as a state, not an exception.
/// </summary>
internal interface IConsentStore
{
    ValueTask<StoreRead> ReadAsync(string subject, CancellationToken cancellationToken);

    ValueTask<ConsentReceipt> SetPurposeAsync(string subject, string purpose, ConsentStatus? status, DateTimeOffset? expiresAt, string? source, CancellationToken cancellationToken);

    ValueTask<ConsentReceipt> SetGpcAsync(string subject, bool gpc, CancellationToken cancellationToken);

    ValueTask<ConsentReceipt> EraseAsync(string subject, CancellationToken cancellationToken);
}

/// <summary>Outcome of one L2 read: found, not found (consent is null), or failed.</summary>
internal readonly record struct StoreRead(bool Succeeded, SubjectConsent? Consent)
{
    public static StoreRead Failed => new(false, null);
}
