using Prometheus;

namespace ConsentGateway.Observability;

internal static class ObservabilityServiceCollectionExtensions
{
    /// <summary>
    /// One metrics registry per gateway instance (not prometheus-net's static default), so that
    /// several instances hosted in one process, as the multi-instance tests do, never share counters.
    /// </summary>
    public static IServiceCollection AddGatewayMetrics(this IServiceCollection services)
    {
        services.AddSingleton(_ => Metrics.NewCustomRegistry());
        services.AddSingleton(sp => new GatewayMetrics(sp.GetRequiredService<CollectorRegistry>()));
        return services;
    }

    /// <summary>
    /// ASP.NET Core and YARP log request URLs at Information; URLs carry subject ids
    /// (/customers/{id}) and query values, so those categories are held at Warning.
    /// </summary>
    /// <remarks>
    /// Hosting's own category is off altogether. While it is enabled at any level, ASP.NET Core starts
    /// an <see cref="System.Diagnostics.Activity"/> and a log scope for every request whether or not
    /// anything consumes them, and HttpClient then starts a second Activity for the forwarded call:
    /// about 1.5 KB and 15 µs per request here (see loadtests/results/targets.md, session 11). Its
    /// messages are request URLs (held back above anyway) and start-up exceptions, which are rethrown
    /// and stop the process. A tracer that subscribes to the "Microsoft.AspNetCore" ActivitySource
    /// (OpenTelemetry) still gets a span per request; without one, the caller's traceparent reaches
    /// the upstream unchanged, so a trace stays connected across the gateway.
    /// </remarks>
    public static ILoggingBuilder AddPrivacyFilters(this ILoggingBuilder logging)
    {
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        logging.AddFilter("Microsoft.AspNetCore.Routing", LogLevel.Warning);
        logging.AddFilter("Microsoft.AspNetCore.HttpLogging", LogLevel.None);
        logging.AddFilter("Yarp", LogLevel.Warning);
        logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        return logging;
    }
}
