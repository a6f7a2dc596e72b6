using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ConsentGateway.Consent;

/// <summary>Configuration section "Consent": the consent store and its in-process cache.</summary>
internal sealed class ConsentOptions
{
    public const string SectionName = "Consent";

    /// <summary>StackExchange.Redis configuration string; empty means the embedded single-instance store.</summary>
    public string? Redis { get; set; }

    /// <summary>Prefix of every subject hash: <c>{KeyPrefix}{subject}</c>.</summary>
    public string KeyPrefix { get; set; } = "consent:";

    /// <summary>Pub/sub channel on which writers publish the id of every changed subject.</summary>
    public string Channel { get; set; } = "consent:changes";

    /// <summary>How long an L1 entry is trusted without asking the store (backstop for lost notifications).</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long "no record for this subject" is trusted.</summary>
    public TimeSpan NegativeCacheTtl { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Fraction of an entry's TTL (<see cref="CacheTtl"/>, or <see cref="NegativeCacheTtl"/> for "no record") after
    /// which a lookup that still hits L1 also starts a store read for that subject in the background. A subject in
    /// steady use is then read again before its entry expires, and no request waits on the store for it. 1 turns
    /// this off: an entry is read again only by the first lookup after it has expired.
    /// </summary>
    public double EagerRefreshThreshold { get; set; } = 0.8;

    /// <summary>Maximum number of subjects held in L1.</summary>
    public long CacheSizeLimit { get; set; } = 100_000;

    /// <summary>Deadline of one lookup as seen by the proxy; past it the lookup falls back to stale data or fails closed.</summary>
    public TimeSpan LookupTimeout { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Deadline of one store read. Longer than <see cref="LookupTimeout"/> on purpose: a read that
    /// misses one caller's deadline by a little still refreshes L1 for the callers after it.
    /// </summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long past <see cref="CacheTtl"/> a cached grant may still be served while the store is
    /// unreachable. CacheTtl + StaleGrantWindow is the worst-case revocation delay during an outage.
    /// </summary>
    public TimeSpan StaleGrantWindow { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Prefix of the consent-event dedupe keys, <c>{EventKeyPrefix}{eventId}</c>. Separate from
    /// <see cref="KeyPrefix"/> so an event id can never name a subject hash (and the reverse).
    /// </summary>
    public string EventKeyPrefix { get; set; } = "consent-event:";

    /// <summary>How long an ingested event id is remembered: a replay within it is reported as a duplicate.</summary>
    public TimeSpan EventIdTtl { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Most events accepted in one <c>POST /v1/consent-events</c> (more: 413).</summary>
    public int MaxEventsPerBatch { get; set; } = 1000;
}

/// <summary>Start-up validation; every message names the configuration key so the operator can fix it.</summary>
internal sealed class ConsentOptionsValidator : IValidateOptions<ConsentOptions>
{
    // Upper bounds keep timestamp arithmetic far from overflow and catch unit mistakes (ms vs s).
    private static readonly TimeSpan MaxTtl = TimeSpan.FromDays(1);
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(1);

    public ValidateOptionsResult Validate(string? name, ConsentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string S = ConsentOptions.SectionName;

        if (string.IsNullOrEmpty(options.KeyPrefix))
        {
            failures.Add($"{S}:KeyPrefix must not be empty (keys would collide with other data in Redis)");
        }

        if (string.IsNullOrEmpty(options.EventKeyPrefix))
        {
            failures.Add($"{S}:EventKeyPrefix must not be empty");
        }
        else if (!string.IsNullOrEmpty(options.KeyPrefix)
            && (options.EventKeyPrefix.StartsWith(options.KeyPrefix, StringComparison.Ordinal) || options.KeyPrefix.StartsWith(options.EventKeyPrefix, StringComparison.Ordinal)))
        {
            failures.Add($"{S}:EventKeyPrefix and {S}:KeyPrefix must not be prefixes of each other (event keys would collide with subject keys)");
        }

        if (options.EventIdTtl < TimeSpan.FromSeconds(1) || options.EventIdTtl > TimeSpan.FromDays(365))
        {
            failures.Add($"{S}:EventIdTtl must be between 1 second and 365 days");
        }

        if (options.MaxEventsPerBatch is < 1 or > 100_000)
        {
            failures.Add($"{S}:MaxEventsPerBatch must be between 1 and 100000");
        }

        if (string.IsNullOrWhiteSpace(options.Channel))
        {
            failures.Add($"{S}:Channel must not be empty");
        }

        Range(failures, $"{S}:CacheTtl", options.CacheTtl, allowZero: false, MaxTtl);
        Range(failures, $"{S}:NegativeCacheTtl", options.NegativeCacheTtl, allowZero: true, MaxTtl);
        Range(failures, $"{S}:StaleGrantWindow", options.StaleGrantWindow, allowZero: true, MaxTtl);
        Range(failures, $"{S}:LookupTimeout", options.LookupTimeout, allowZero: false, MaxTimeout);
        Range(failures, $"{S}:StoreTimeout", options.StoreTimeout, allowZero: false, MaxTimeout);

        // Written so that NaN fails too.
        if (!(options.EagerRefreshThreshold > 0 && options.EagerRefreshThreshold <= 1))
        {
            failures.Add($"{S}:EagerRefreshThreshold must be > 0 and <= 1 (a fraction of the TTL; 1 turns refresh-ahead off)");
        }

        if (options.CacheSizeLimit <= 0)
        {
            failures.Add($"{S}:CacheSizeLimit must be > 0");
        }

        if (!string.IsNullOrWhiteSpace(options.Redis))
        {
            try
            {
                _ = ConfigurationOptions.Parse(options.Redis);
            }
            catch (ArgumentException)
            {
                // The value is not echoed: it may carry a password.
                failures.Add($"{S}:Redis is not a valid StackExchange.Redis configuration string");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Range(List<string> failures, string key, TimeSpan value, bool allowZero, TimeSpan max)
    {
        if (allowZero ? value < TimeSpan.Zero : value <= TimeSpan.Zero)
        {
            failures.Add(allowZero ? $"{key} must be >= 0" : $"{key} must be > 0");
        }
        else if (value > max)
        {
            failures.Add($"{key} must be <= {max}");
        }
    }
}
