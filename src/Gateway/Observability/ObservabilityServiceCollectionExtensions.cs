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
    public static ILoggingBuilder AddPrivacyFilters(this ILoggingBuilder logging)
    {
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        logging.AddFilter("Microsoft.AspNetCore.Routing", LogLevel.Warning);
        logging.AddFilter("Microsoft.AspNetCore.HttpLogging", LogLevel.None);
        logging.AddFilter("Yarp", LogLevel.Warning);
        logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        return logging;
    }
}
