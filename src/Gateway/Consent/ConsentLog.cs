using System.Net;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ConsentGateway.Consent;

/// <summary>
/// Every log line of the consent tier (event ids 3000-3099). None takes a subject id, a key or a
/// stored value: those identify a person. Exceptions from store reads and writes are logged by type
/// only, because driver messages can quote the command they failed on.
/// </summary>
internal static partial class ConsentLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Warning,
        Message = "Consent store: embedded in-process store. It serves this single instance only and loses every consent record on restart; set Consent:Redis for anything but a demo.")]
    public static partial void EmbeddedStoreInUse(ILogger logger);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Consent store: connecting to Redis in the background (change channel {Channel}).")]
    public static partial void RedisConnecting(ILogger logger, string channel);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Consent store: Redis connection created (connected: {Connected}).")]
    public static partial void RedisConnectionCreated(ILogger logger, bool connected);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "Consent store: could not create the Redis connection ({ExceptionType}); retrying.")]
    private static partial void RedisConnectionCreateFailed(ILogger logger, string exceptionType);

    public static void RedisConnectionCreateFailed(ILogger logger, Exception exception) => RedisConnectionCreateFailed(logger, exception.GetType().Name);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Consent store: Redis {ConnectionType} connection to {Endpoint} failed ({FailureType}).")]
    public static partial void RedisConnectionFailed(ILogger logger, ConnectionType connectionType, EndPoint? endpoint, ConnectionFailureType failureType);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "Consent store: Redis {ConnectionType} connection to {Endpoint} restored.")]
    public static partial void RedisConnectionRestored(ILogger logger, ConnectionType connectionType, EndPoint? endpoint);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning,
        Message = "Consent change subscription lost ({Reason}): the whole L1 cache is distrusted until it is back; lookups go to the store.")]
    public static partial void SubscriptionLost(ILogger logger, string reason);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Consent change subscription active; L1 cache restarted empty.")]
    public static partial void SubscriptionActive(ILogger logger);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Consent store: subscribing to the change channel failed ({ExceptionType}); it will be retried.")]
    private static partial void SubscribeFailed(ILogger logger, string exceptionType);

    public static void SubscribeFailed(ILogger logger, Exception exception) => SubscribeFailed(logger, exception.GetType().Name);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning, Message = "Consent change notification with an empty payload ignored.")]
    public static partial void EmptyNotification(ILogger logger);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Debug, Message = "Consent store read failed ({ExceptionType}).")]
    private static partial void StoreReadFailed(ILogger logger, string exceptionType);

    public static void StoreReadFailed(ILogger logger, Exception exception)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
#pragma warning disable CA1873 // guarded by IsEnabled just above; the analyzer does not see through it
            StoreReadFailed(logger, exception.GetType().Name);
#pragma warning restore CA1873
        }
    }

    [LoggerMessage(EventId = 3011, Level = LogLevel.Error, Message = "Consent store write failed ({ExceptionType}); the outcome is unknown.")]
    private static partial void StoreWriteFailed(ILogger logger, string exceptionType);

    public static void StoreWriteFailed(ILogger logger, Exception exception) => StoreWriteFailed(logger, exception.GetType().Name);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning,
        Message = "Consent record has an unparsable {FieldKind} field; it is read fail-closed (purpose denied, GPC set, version 0).")]
    public static partial void UnparsableField(ILogger logger, string fieldKind);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Debug, Message = "Consent lookup fell back ({Outcome}) after the store did not answer.")]
    public static partial void LookupFallback(ILogger logger, string outcome);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Debug, Message = "Redis internal error ({ExceptionType}, origin {Origin}).")]
    private static partial void RedisInternalError(ILogger logger, string exceptionType, string? origin);

    public static void RedisInternalError(ILogger logger, InternalErrorEventArgs e)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
#pragma warning disable CA1873 // guarded by IsEnabled just above; the analyzer does not see through it
            RedisInternalError(logger, e.Exception.GetType().Name, e.Origin);
#pragma warning restore CA1873
        }
    }

    [LoggerMessage(EventId = 3015, Level = LogLevel.Warning,
        Message = "Consent store: the change channel has been unconfirmed for {Wait} on a connected link; subscribing again.")]
    public static partial void Resubscribing(ILogger logger, TimeSpan wait);
}
