namespace ConsentGateway.Admin;

/// <summary>
/// Log lines of the admin listener (event ids 3100-3119). None takes a subject id, an event id, a
/// token or a key: only counts and exception type names.
/// </summary>
internal static partial class AdminLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Admin bearer token rejected ({Reason}).")]
    public static partial void TokenRejected(ILogger logger, string reason);

    /// <summary>By exception type only: token validation messages can quote claims.</summary>
    public static void TokenRejected(ILogger logger, Exception? failure)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
#pragma warning disable CA1873 // guarded by IsEnabled just above; the analyzer does not see through it
            TokenRejected(logger, failure?.GetType().Name ?? "none");
#pragma warning restore CA1873
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information,
        Message = "Consent events ingested: {Applied} applied, {Duplicate} duplicate, {Superseded} superseded.")]
    public static partial void EventsIngested(ILogger logger, int applied, int duplicate, int superseded);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning,
        Message = "Consent event batch stopped after {Done} of {Total} events: the store did not confirm a write. Replaying the batch is safe.")]
    public static partial void EventsIncomplete(ILogger logger, int done, int total);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Consent event batch rejected ({Status}, {Field}); nothing was written.")]
    public static partial void EventsRejected(ILogger logger, int status, string field);
}
