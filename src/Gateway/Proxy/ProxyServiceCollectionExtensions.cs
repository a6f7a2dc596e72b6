using ConsentGateway.Enforcement;
using ConsentGateway.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Yarp.ReverseProxy.Forwarder;

namespace ConsentGateway.Proxy;

internal static partial class ProxyServiceCollectionExtensions
{
    public static IServiceCollection AddConsentProxy(this IServiceCollection services, IConfiguration configuration)
    {
        // Before AddReverseProxy, whose own registration of the factory only applies when none exists.
        services.AddSingleton<IForwarderHttpClientFactory, UpstreamHttpClientFactory>();
        services.AddReverseProxy()
            .LoadFromConfig(configuration.GetSection("ReverseProxy"))
            .AddTransforms<ConsentRequestTransform>()
            .AddTransforms<ResponseEnforcementTransform>();
        services.AddSingleton(sp =>
        {
            var pseudonymizer = new Pseudonymizer(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.HashKeyBytes());
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger<Pseudonymizer>();
            LogPseudonymHash(logger, pseudonymizer.HashImplementation);
            return pseudonymizer;
        });

        var jwt = configuration.GetSection("Jwt");
        if (jwt.Exists())
        {
            AddJwt(services, jwt);
        }

        return services;
    }

    /// <summary>
    /// Subject ids taken from a bearer token: issuer, audience and algorithms pinned, signature,
    /// expiry and lifetime required, near-zero clock skew.
    /// </summary>
    private static void AddJwt(IServiceCollection services, IConfigurationSection jwt)
    {
        var issuer = jwt["Issuer"] ?? throw new InvalidOperationException("Jwt:Issuer is required when a Jwt section is present.");
        var audience = jwt["Audience"] ?? throw new InvalidOperationException("Jwt:Audience is required when a Jwt section is present.");
        var signing = JwtSigningKeyOptions.Read(jwt);
        services.AddAuthentication().AddJwtBearer(JwtBearerDefaults.AuthenticationScheme, o =>
        {
            o.MapInboundClaims = false;
            o.RequireHttpsMetadata = false;
            o.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = issuer,
                ValidAudience = audience,
                ValidAlgorithms = signing.Algorithms,
                IssuerSigningKey = signing.Key,
                RequireSignedTokens = true,
                RequireExpirationTime = true,
                ValidateLifetime = true,
                ClockSkew = TimeSpan.FromSeconds(5),
            };
        });
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "Pseudonyms: HMAC-SHA256 with SHA-256 blocks compressed by {Implementation}")]
    private static partial void LogPseudonymHash(ILogger logger, string implementation);
}
