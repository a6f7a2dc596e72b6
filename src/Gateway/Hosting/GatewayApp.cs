using ConsentGateway.Admin;
using ConsentGateway.Consent;
using ConsentGateway.Observability;
using ConsentGateway.Policy;
using ConsentGateway.Proxy;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.Options;

namespace ConsentGateway.Hosting;

/// <summary>Composes the gateway: configuration layering, the two listeners, each feature's services, the pipeline.</summary>
internal static class GatewayApp
{
    public const string DefaultConfigPath = "config/gateway.json";

    /// <param name="args">Command line; <c>--config PATH</c> names the gateway file (default config/gateway.json).</param>
    /// <param name="overrides">Extra settings layered last (tests use this to set ports and Redis).</param>
    public static WebApplication Build(string[] args, IDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = args });
        var commandLine = new ConfigurationBuilder().AddCommandLine(args).Build();
        var configPath = Path.GetFullPath(commandLine["config"] ?? DefaultConfigPath);
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"Gateway configuration file not found: {configPath} (pass --config PATH).", configPath);
        }

        // File, then environment (Section__Key), then command line: later sources win.
        builder.Configuration
            .AddJsonFile(configPath, optional: false, reloadOnChange: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args);
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging")).AddSimpleConsole(o => o.SingleLine = true).AddPrivacyFilters();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Services.AddRoutingCore();

        var services = builder.Services;
        services.AddOptions<GatewayOptions>().Bind(builder.Configuration.GetSection(GatewayOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<Listeners>();
        services.AddSingleton<MatcherPolicy, ListenerMatcherPolicy>();
        services.AddSingleton<AdminAuthenticator>();
        services.AddAdminAuthentication(builder.Configuration);
        services.AddGatewayMetrics();
        services.AddConsentPolicy();
        services.AddConsent(builder.Configuration);
        services.AddConsentProxy(builder.Configuration);

        var app = builder.Build();
        var options = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        app.Services.GetRequiredService<Listeners>().Configure(app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>>().Value, options);

        // Compile the policy now so that an invalid one stops start-up with every bad key named.
        app.Services.GetRequiredService<PolicyProvider>();

        app.UseRouting();
        app.MapReverseProxy(proxy =>
        {
            // Enforcement first, so a refused request never picks a destination or counts toward its health;
            // then YARP's own steps, which a custom pipeline must name (the parameterless MapReverseProxy
            // adds them): without them a cluster's load-balancing policy, session affinity and passive
            // health checks would be silently ignored.
            proxy.UseMiddleware<ConsentEnforcementMiddleware>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        }).WithMetadata(new ListenerMetadata(Listener.Proxy));
        app.MapAdmin();

        // Endpoints explicitly here, so that the terminal 404 below runs only when none matched.
        app.UseEndpoints(static _ => { });
        app.Run(static context => Problem.NotFound.WriteAsync(context));
        return app;
    }
}
