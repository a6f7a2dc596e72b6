using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ConsentGateway.Consent;

/// <summary>
/// Consent in Redis, laid out as the README ("Redis layout") documents so consent platforms can write it directly.
/// Reads report failure as <see cref="StoreRead.Failed"/> within their own deadline; writes are one
/// Lua script each (change + version bump + PUBLISH, atomically) and throw
/// <see cref="ConsentStoreException"/> when the outcome cannot be confirmed.
/// </summary>
internal sealed class RedisConsentStore : IConsentStore, IConsentStoreHealth, IConsentEventStore
{
    // KEYS[1] subject hash. ARGV: field, "1" to set / "0" to delete, value, channel, subject,
    // optional field to delete as well (GPC's ordering field: an admin write carries no event time).
    // Returns the new version.
    private const string SetFieldScript = """
        if ARGV[2] == '1' then
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
        else
          redis.call('HDEL', KEYS[1], ARGV[1])
        end
        if ARGV[6] then
          redis.call('HDEL', KEYS[1], ARGV[6])
        end
        local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
        redis.call('PUBLISH', ARGV[4], ARGV[5])
        return v
        """;

    // KEYS[1] subject hash. ARGV: channel, subject.
    private const string EraseScript = """
        redis.call('DEL', KEYS[1])
        redis.call('PUBLISH', ARGV[1], ARGV[2])
        return 0
        """;

    // One consent event, atomically (README "Redis layout", "Consent events").
    // KEYS[1] subject hash, KEYS[2] event dedupe key.
    // ARGV: 1 field (p:{purpose} or gpc), 2 value, 3 event order key (21 digits, see ConsentEvent.OrderKey),
    //       4 dedupe TTL in seconds, 5 channel, 6 subject,
    //       7 '' = the stored order is the occurredAt inside the field's JSON; else the hash field holding it (gpcAt),
    //       8 occurredAt (ISO) written to that field.
    // Returns {0, 0} duplicate, {1, current version} superseded, {2, new version} applied.
    // A stored occurredAt that is missing or not "yyyy-mm-ddThh:mm:ss[.f]Z" is unknown: the event applies.
    private const string ApplyEventScript = """
        local function order(t)
          if type(t) ~= 'string' then return nil end
          local d, tm, f = string.match(t, '^(%d%d%d%d%-%d%d%-%d%d)T(%d%d:%d%d:%d%d)%.?(%d*)Z$')
          if not d then return nil end
          return (string.gsub(d .. tm, '%D', '')) .. string.sub(f .. '0000000', 1, 7)
        end
        if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[4]) then
          return {0, 0}
        end
        local stored
        if ARGV[7] == '' then
          local current = redis.call('HGET', KEYS[1], ARGV[1])
          if current then
            local ok, record = pcall(cjson.decode, current)
            if ok and type(record) == 'table' then stored = order(record['occurredAt']) end
          end
        else
          stored = order(redis.call('HGET', KEYS[1], ARGV[7]))
        end
        if stored and ARGV[3] < stored then
          return {1, tonumber(redis.call('HGET', KEYS[1], 'v')) or 0}
        end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        if ARGV[7] ~= '' then
          redis.call('HSET', KEYS[1], ARGV[7], ARGV[8])
        end
        local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
        redis.call('PUBLISH', ARGV[5], ARGV[6])
        return {2, v}
        """;

    // Writes come from the admin plane: a person waits, but Redis must be given time to answer.
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(2);

    private readonly RedisConnection _connection;
    private readonly ConsentInvalidation _hub;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _keyPrefix;
    private readonly string _eventKeyPrefix;
    private readonly RedisValue _eventTtlSeconds;
    private readonly RedisValue _channel;
    private readonly TimeSpan _readTimeout;

    public RedisConsentStore(RedisConnection connection, ConsentInvalidation hub, IOptions<ConsentOptions> options, TimeProvider time, ILogger<RedisConsentStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _connection = connection;
        _hub = hub;
        _time = time;
        _logger = logger;
        _keyPrefix = options.Value.KeyPrefix;
        _eventKeyPrefix = options.Value.EventKeyPrefix;
        _eventTtlSeconds = Math.Max(1L, (long)options.Value.EventIdTtl.TotalSeconds);
        _channel = options.Value.Channel;
        _readTimeout = options.Value.StoreTimeout;
    }

    public string Kind => "redis";

    public bool IsAvailable => _connection.IsConnected;

    public bool IsSubscribed => _connection.IsSubscribed;

    public async ValueTask<StoreRead> ReadAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var mux = _connection.Multiplexer;
        if (mux is null || !mux.IsConnected)
        {
            return StoreRead.Failed; // fail fast rather than spend the caller's deadline
        }

        Task<HashEntry[]>? pending = null;
        try
        {
            // The library's own timeout is checked on a ~1 s heartbeat: far too late for a lookup.
            pending = mux.GetDatabase().HashGetAllAsync(Key(subject));
            var fields = await pending.WaitAsync(_readTimeout, _time, cancellationToken).ConfigureAwait(false);
            return new StoreRead(true, RedisConsentFormat.Parse(fields, _logger));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            Observe(pending);
            ConsentLog.StoreReadFailed(_logger, ex);
            return StoreRead.Failed;
        }
    }

    public async ValueTask<ConsentReceipt> SetPurposeAsync(string subject, string purpose, ConsentStatus? status, DateTimeOffset? expiresAt, string? source, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        var now = _time.GetUtcNow();
        // An admin write is a decision made now: it orders against consent events like one that occurred now.
        RedisValue value = status is { } s ? RedisConsentFormat.FormatPurpose(s, expiresAt, now, source, occurredAt: now) : RedisValue.EmptyString;
        var version = await SetFieldAsync(subject, RedisConsentFormat.PurposeFieldPrefix + purpose, status is not null, value, cancellationToken).ConfigureAwait(false);
        return new ConsentReceipt(subject, purpose, ConsentReceipts.StatusName(status), now, version);
    }

    public async ValueTask<ConsentReceipt> SetGpcAsync(string subject, bool gpc, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        var now = _time.GetUtcNow();
        var result = await EvaluateAsync(
            SetFieldScript,
            subject,
            [Key(subject)],
            [RedisConsentFormat.GpcField, gpc ? "1" : "0", gpc ? "1" : RedisValue.EmptyString, _channel, subject, RedisConsentFormat.GpcOccurredAtField],
            cancellationToken).ConfigureAwait(false);
        return ConsentReceipts.Gpc(subject, gpc, now, (long)result);
    }

    public async ValueTask<ConsentEventResult> ApplyEventAsync(ConsentEvent consentEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consentEvent);
        var now = _time.GetUtcNow();
        RedisValue field, value, orderField, occurredAt;
        if (consentEvent.IsGpc)
        {
            field = RedisConsentFormat.GpcField;
            value = consentEvent.Gpc ? "1" : "0";
            orderField = RedisConsentFormat.GpcOccurredAtField;
            occurredAt = RedisConsentFormat.FormatTime(consentEvent.OccurredAt);
        }
        else
        {
            field = RedisConsentFormat.PurposeFieldPrefix + consentEvent.Purpose;
            value = RedisConsentFormat.FormatPurpose(consentEvent.Status, consentEvent.StoredExpiresAt, now, consentEvent.Source, consentEvent.OccurredAt);
            orderField = RedisValue.EmptyString;
            occurredAt = RedisValue.EmptyString;
        }

        var result = (RedisResult[])(await EvaluateAsync(
            ApplyEventScript,
            consentEvent.Subject,
            [Key(consentEvent.Subject), _eventKeyPrefix + consentEvent.EventId],
            [field, value, ConsentEvent.OrderKey(consentEvent.OccurredAt), _eventTtlSeconds, _channel, consentEvent.Subject, orderField, occurredAt],
            cancellationToken).ConfigureAwait(false))!;
        var outcome = (long)result[0] switch
        {
            0 => ConsentEventOutcome.Duplicate,
            1 => ConsentEventOutcome.Superseded,
            _ => ConsentEventOutcome.Applied,
        };
        return new ConsentEventResult(outcome, (long)result[1], now);
    }

    public async ValueTask<ConsentReceipt> EraseAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        var now = _time.GetUtcNow();
        await EvaluateAsync(EraseScript, subject, [Key(subject)], [_channel, subject], cancellationToken).ConfigureAwait(false);
        return ConsentReceipts.Erased(subject, now);
    }

    private async Task<long> SetFieldAsync(string subject, string field, bool set, RedisValue value, CancellationToken cancellationToken)
    {
        var result = await EvaluateAsync(SetFieldScript, subject, [Key(subject)], [field, set ? "1" : "0", value, _channel, subject], cancellationToken).ConfigureAwait(false);
        return (long)result;
    }

    private async Task<RedisResult> EvaluateAsync(string script, string subject, RedisKey[] keys, RedisValue[] args, CancellationToken cancellationToken)
    {
        var mux = _connection.Multiplexer ?? throw new ConsentStoreException("The consent store is not connected.");
        Task<RedisResult>? pending = null;
        RedisResult result;
        try
        {
            pending = mux.GetDatabase().ScriptEvaluateAsync(script, keys, args);
            result = await pending.WaitAsync(WriteTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Observe(pending);
            throw;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Observe(pending);
            _hub.Invalidate(subject); // it may have been applied: do not keep serving what came before
            ConsentLog.StoreWriteFailed(_logger, ex);
            throw new ConsentStoreException("The consent store did not confirm the write; it may or may not have been applied.", ex);
        }

        // Read-your-writes on this instance without waiting for our own PUBLISH to come back.
        _hub.Invalidate(subject);
        return result;
    }

    private RedisKey Key(string subject) => _keyPrefix + subject;

    // After our deadline the driver's task may still fault; observe it so it is not reported as unobserved.
    private static void Observe(Task? task) =>
        _ = task?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
