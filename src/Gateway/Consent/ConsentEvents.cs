using System.Globalization;

namespace ConsentGateway.Consent;

/// <summary>
/// One validated consent event from a consent platform (<c>POST /v1/consent-events</c>). A purpose
/// event sets one purpose (<see cref="Purpose"/> non-null); a GPC event (<see cref="Purpose"/> null)
/// records or clears Global Privacy Control.
/// </summary>
internal sealed record ConsentEvent(
    string EventId,
    string Subject,
    string? Purpose,
    ConsentStatus Status,
    bool Expired,
    DateTimeOffset? ExpiresAt,
    bool Gpc,
    DateTimeOffset OccurredAt,
    string? Source)
{
    public bool IsGpc => Purpose is null;

    /// <summary>The word the receipt shows: granted, denied, expired, or recorded/cleared for GPC.</summary>
    public string StatusName => IsGpc ? (Gpc ? "recorded" : "cleared") : Expired ? "expired" : ConsentReceipts.StatusName(Status);

    /// <summary>The expiry actually stored: an "expired" event is a grant that ended when the event occurred.</summary>
    public DateTimeOffset? StoredExpiresAt => Expired ? OccurredAt : ExpiresAt;

    /// <summary>
    /// The order key both stores compare: UTC, 21 digits (yyyyMMddHHmmss + 7 fraction digits), so that
    /// an ordinal (or Lua) string comparison orders by time.
    /// </summary>
    public static string OrderKey(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyyMMddHHmmssfffffff", CultureInfo.InvariantCulture);
}

internal enum ConsentEventOutcome : byte
{
    /// <summary>Written: the subject's version was bumped and the change announced.</summary>
    Applied = 0,

    /// <summary>The event id was seen before (within <c>Consent:EventIdTtl</c>): nothing changed.</summary>
    Duplicate = 1,

    /// <summary>A newer decision (later <c>occurredAt</c>) is already stored for that purpose: nothing changed but the event id was recorded.</summary>
    Superseded = 2,
}

/// <summary>What ingesting one event did. <see cref="Version"/> is the subject's version after it (0 for a duplicate).</summary>
internal readonly record struct ConsentEventResult(ConsentEventOutcome Outcome, long Version, DateTimeOffset EffectiveAt);

/// <summary>
/// Idempotent, order-aware ingestion of consent events, implemented by both stores with the same
/// semantics: an event id is applied at most once (within the dedupe TTL), and an event older than
/// the stored decision for the same subject and purpose (or GPC) never overwrites it. Equal
/// <c>occurredAt</c>: the later write wins and gets the higher version.
/// </summary>
internal interface IConsentEventStore
{
    /// <exception cref="ConsentStoreException">The outcome could not be confirmed (retrying the same event is safe).</exception>
    ValueTask<ConsentEventResult> ApplyEventAsync(ConsentEvent consentEvent, CancellationToken cancellationToken);
}
