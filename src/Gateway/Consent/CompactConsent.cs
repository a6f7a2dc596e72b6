using System.Collections.Concurrent;

namespace ConsentGateway.Consent;

/// <summary>
/// What evaluation needs to know about one subject, in one small immutable object: per purpose the
/// status and expiry, the GPC flag and the version. It is also L1's entry (it carries the entry's
/// fresh-until stamp and generation), so an L1 hit reads this one object and nothing else.
/// </summary>
/// <remarks>
/// Projected from the store's <see cref="SubjectConsent"/> when a read arrives. UpdatedAt, Source and the
/// occurredAt stamps are not kept: nothing that reads L1 uses them (the admin API reads the store).
/// <para>
/// Size: the first two purposes are stored inline as flat fields (a struct per slot would be padded
/// to 24 B), further ones spill to an array. On x64 that is 16 B of header, three references, five longs
/// and four bytes = 88 B for a subject with up to two purposes, against about 360 B for the store's
/// record with its purpose records and per-record copies of the purpose and source strings. Purpose names
/// are shared process-wide through <see cref="PurposeNameTable"/> so a million subjects do not hold a
/// million copies of "marketing".
/// </para>
/// </remarks>
internal sealed class CompactConsent
{
    /// <summary>Expiry ticks standing for "never expires": beyond any real UtcTicks, so one comparison decides.</summary>
    internal const long NoExpiry = long.MaxValue;

    private readonly string? _name0;
    private readonly string? _name1;
    private readonly PurposeSlot[]? _more;
    private readonly long _expiry0;
    private readonly long _expiry1;
    private readonly ConsentStatus _status0;
    private readonly ConsentStatus _status1;

    private CompactConsent(SubjectConsent? consent, long freshUntil, long generation, PurposeNameTable names, out bool shared)
    {
        FreshUntil = freshUntil;
        Generation = generation;
        NotFound = consent is null;
        shared = true;
        if (consent is null)
        {
            return;
        }

        Version = consent.Version;
        Gpc = consent.Gpc;
        var purposes = consent.Purposes;
        PurposeCount = purposes.Length;
        if (purposes.Length > 2)
        {
            _more = new PurposeSlot[purposes.Length - 2];
        }

        for (var i = 0; i < purposes.Length; i++)
        {
            var p = purposes[i];
            var name = names.Intern(p.Purpose);
            if (name is null)
            {
                // Table full: this snapshot keeps its own copy, which is still correct but not bounded by the table.
                shared = false;
                name = p.Purpose;
            }

            var status = ToStatus(p.Status);
            var expiry = p.ExpiresAt is { } at ? at.UtcTicks : NoExpiry;
            switch (i)
            {
                case 0:
                    (_name0, _status0, _expiry0) = (name, status, expiry);
                    break;
                case 1:
                    (_name1, _status1, _expiry1) = (name, status, expiry);
                    break;
                default:
                    _more![i - 2] = new PurposeSlot(name, expiry, status);
                    break;
            }
        }
    }

    /// <summary>Monotonic per-subject version, bumped by every write.</summary>
    public long Version { get; }

    /// <summary>Global Privacy Control recorded for the subject.</summary>
    public bool Gpc { get; }

    /// <summary>The store had no record at all (as opposed to a record with no purposes).</summary>
    public bool NotFound { get; }

    public int PurposeCount { get; }

    public bool IsEmpty => PurposeCount == 0 && !Gpc;

    /// <summary>L1 bookkeeping: TimeProvider timestamp until which the entry may answer on its own.</summary>
    internal long FreshUntil { get; }

    /// <summary>L1 bookkeeping: the invalidation generation the entry was read in.</summary>
    internal long Generation { get; }

    /// <summary>A projection without L1 bookkeeping (for evaluation outside the cache, and tests).</summary>
    public static CompactConsent From(SubjectConsent? consent) => new(consent, 0, 0, PurposeNameTable.Shared, out _);

    /// <summary>
    /// Projects a store read for L1. <paramref name="shared"/> is false when a purpose name did not fit in
    /// <paramref name="names"/>: the answer is still exact, but the cache does not keep it (see ConsentCache).
    /// </summary>
    internal static CompactConsent Project(SubjectConsent? consent, long freshUntil, long generation, PurposeNameTable names, out bool shared) =>
        new(consent, freshUntil, generation, names, out shared);

    public PurposeState? Find(string purpose)
    {
        // At most a handful of purposes per subject: an ordinal scan beats hashing.
        if (_name0 is null)
        {
            return null;
        }

        if (string.Equals(_name0, purpose, StringComparison.Ordinal))
        {
            return new PurposeState(_status0, _expiry0);
        }

        if (_name1 is null)
        {
            return null;
        }

        if (string.Equals(_name1, purpose, StringComparison.Ordinal))
        {
            return new PurposeState(_status1, _expiry1);
        }

        if (_more is { } more)
        {
            foreach (var slot in more)
            {
                if (string.Equals(slot.Name, purpose, StringComparison.Ordinal))
                {
                    return new PurposeState(slot.Status, slot.ExpiresAtUtcTicks);
                }
            }
        }

        return null;
    }

    // Only Granted and Denied exist; anything else would be a bug upstream, and is kept as a denial (fails closed).
    private static ConsentStatus ToStatus(ConsentStatus status) => status == ConsentStatus.Granted ? ConsentStatus.Granted : ConsentStatus.Denied;

    private readonly record struct PurposeSlot(string Name, long ExpiresAtUtcTicks, ConsentStatus Status);
}

/// <summary>One purpose's status and expiry as L1 keeps them.</summary>
internal readonly record struct PurposeState(ConsentStatus Status, long ExpiresAtUtcTicks)
{
    public DateTimeOffset? ExpiresAt => ExpiresAtUtcTicks == CompactConsent.NoExpiry ? null : new DateTimeOffset(ExpiresAtUtcTicks, TimeSpan.Zero);

    /// <summary>Granted and not yet expired at <paramref name="now"/> (an expiry equal to now has expired).</summary>
    public bool IsGrantedAt(DateTimeOffset now) => Status == ConsentStatus.Granted && ExpiresAtUtcTicks > now.UtcTicks;
}

/// <summary>
/// Process-wide, bounded interning of purpose names for <see cref="CompactConsent"/>. Names come from
/// the store, which any writer can fill, so the table stops growing at its capacity instead of holding
/// every name ever seen; past it, subjects naming new purposes are answered but not cached.
/// </summary>
internal sealed class PurposeNameTable
{
    /// <summary>Far above the 64 purposes a policy may declare, so policy reloads over the process's life fit.</summary>
    public const int DefaultCapacity = 1024;

    private readonly ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _count;

    public PurposeNameTable(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    public static PurposeNameTable Shared { get; } = new(DefaultCapacity);

    public int Capacity { get; }

    public int Count => Volatile.Read(ref _count);

    /// <summary>The canonical instance of <paramref name="name"/>, or null when the table is full and does not hold it.</summary>
    public string? Intern(string name)
    {
        if (_names.TryGetValue(name, out var canonical))
        {
            return canonical;
        }

        // Adds are rare (one per distinct name): a lock keeps the count exact without a CAS dance.
        lock (_gate)
        {
            if (_names.TryGetValue(name, out canonical))
            {
                return canonical;
            }

            if (_count >= Capacity)
            {
                return null;
            }

            _names[name] = name;
            Volatile.Write(ref _count, _count + 1);
            return name;
        }
    }
}
