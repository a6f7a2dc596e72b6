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
internal sealed class RedisConsentStore : IConsentStore, IConsentStoreHealth
{
    // KEYS[1] subject hash. ARGV: field, "1" to set / "0" to delete, value, channel, subject.
    // Returns the new version.
    private const string SetFieldScript = """
        if ARGV[2] == '1' then
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
        else
          redis.call('HDEL', KEYS[1], ARGV[1])
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

    // Writes come from the admin plane: a person waits, but Redis must be given time to answer.
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(2);

    private readonly RedisConnection _connection;
    private readonly ConsentInvalidation _hub;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _keyPrefix;
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
        RedisValue value = status is { } s ? RedisConsentFormat.FormatPurpose(s, expiresAt, now, source) : RedisValue.EmptyString;
        var version = await SetFieldAsync(subject, RedisConsentFormat.PurposeFieldPrefix + purpose, status is not null, value, cancellationToken).ConfigureAwait(false);
        return new ConsentReceipt(subject, purpose, ConsentReceipts.StatusName(status), now, version);
    }

    public async ValueTask<ConsentReceipt> SetGpcAsync(string subject, bool gpc, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        var now = _time.GetUtcNow();
        var version = await SetFieldAsync(subject, RedisConsentFormat.GpcField, gpc, gpc ? "1" : RedisValue.EmptyString, cancellationToken).ConfigureAwait(false);
        return ConsentReceipts.Gpc(subject, gpc, now, version);
    }

    public async ValueTask<ConsentReceipt> EraseAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        var now = _time.GetUtcNow();
        await EvaluateAsync(EraseScript, subject, [_channel, subject], cancellationToken).ConfigureAwait(false);
        return ConsentReceipts.Erased(subject, now);
    }

    private async Task<long> SetFieldAsync(string subject, string field, bool set, RedisValue value, CancellationToken cancellationToken)
    {
        var result = await EvaluateAsync(SetFieldScript, subject, [field, set ? "1" : "0", value, _channel, subject], cancellationToken).ConfigureAwait(false);
        return (long)result;
    }

    private async Task<RedisResult> EvaluateAsync(string script, string subject, RedisValue[] args, CancellationToken cancellationToken)
    {
        var mux = _connection.Multiplexer ?? throw new ConsentStoreException("The consent store is not connected.");
        Task<RedisResult>? pending = null;
        RedisResult result;
        try
        {
            pending = mux.GetDatabase().ScriptEvaluateAsync(script, [Key(subject)], args);
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
