using ConsentGateway.Observability;
using Microsoft.Extensions.Primitives;

namespace ConsentGateway.Policy;

/// <summary>Raised at start-up when the policy is invalid; the message lists every bad key.</summary>
internal sealed class PolicyValidationException(IReadOnlyList<string> errors)
    : Exception("The consent policy is invalid:" + Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>
/// Holds the current <see cref="CompiledPolicy"/>. Compiled once at start-up (failing fast), then
/// recompiled whenever configuration reloads; an invalid reload is logged and counted, and the
/// last good policy stays in force, so a bad edit never opens the gate.
/// </summary>
internal sealed partial class PolicyProvider : IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<PolicyProvider> _logger;
    private readonly IDisposable _reloadRegistration;
    private readonly Lock _reloadLock = new();
    private volatile CompiledPolicy _current;

    public PolicyProvider(IConfiguration configuration, GatewayMetrics metrics, ILogger<PolicyProvider> logger)
    {
        _configuration = configuration;
        _metrics = metrics;
        _logger = logger;
        _current = PolicyCompiler.Compile(configuration, out var errors) ?? throw new PolicyValidationException(errors);
        _metrics.PolicyReloads.WithLabels("success").Inc();
        LogLoaded(_logger, _current.Routes.Count, _current.Purposes.Count, _current.CallersByKeyHash.Count);
        _reloadRegistration = ChangeToken.OnChange(configuration.GetReloadToken, () => Reload());
    }

    public CompiledPolicy Current => _current;

    /// <summary>Recompiles from configuration now. Returns false (keeping the last good policy) when invalid.</summary>
    public bool Reload()
    {
        lock (_reloadLock)
        {
            var compiled = PolicyCompiler.Compile(_configuration, out var errors);
            if (compiled is null)
            {
                _metrics.PolicyReloads.WithLabels("failure").Inc();
                LogReloadRejected(_logger, errors.Count, string.Join("; ", errors));
                return false;
            }

            _current = compiled;
            _metrics.PolicyReloads.WithLabels("success").Inc();
            LogLoaded(_logger, compiled.Routes.Count, compiled.Purposes.Count, compiled.CallersByKeyHash.Count);
            return true;
        }
    }

    public void Dispose() => _reloadRegistration.Dispose();

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Consent policy loaded: {Routes} routes, {Purposes} purposes, {Callers} callers")]
    private static partial void LogLoaded(ILogger logger, int routes, int purposes, int callers);

    // Errors name configuration keys and values from the policy file, never request data.
    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Consent policy reload rejected ({Count} errors); keeping the last good policy: {Errors}")]
    private static partial void LogReloadRejected(ILogger logger, int count, string errors);
}
