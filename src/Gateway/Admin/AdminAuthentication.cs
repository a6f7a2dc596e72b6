using System.Security.Claims;
using ConsentGateway.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace ConsentGateway.Admin;

/// <summary>What the admin listener accepts besides admin keys: JWT bearer tokens when <c>Admin:Jwt</c> is configured.</summary>
internal sealed class AdminJwtPolicy(bool enabled, string? requiredScope)
{
    public static readonly AdminJwtPolicy Disabled = new(false, null);

    public bool Enabled { get; } = enabled;

    /// <summary>When set, the token's <c>scope</c> (space-separated) or <c>scp</c> claim must contain it.</summary>
    public string? RequiredScope { get; } = requiredScope;

    public bool HasRequiredScope(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (RequiredScope is null)
        {
            return true;
        }

        foreach (var claim in principal.Claims)
        {
            if (claim.Type is "scope" or "scp"
                && claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(RequiredScope, StringComparer.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

internal static class AdminAuthenticationExtensions
{
    /// <summary>
    /// Authentication scheme of admin tokens. Distinct from <see cref="JwtBearerDefaults.AuthenticationScheme"/>,
    /// which validates subject tokens on the proxy listener against a different issuer/audience.
    /// </summary>
    public const string JwtScheme = "AdminJwt";

    public const string JwtSection = "Admin:Jwt";

    /// <summary>
    /// Admin credentials: X-Admin-Key (always) and, when the <c>Admin:Jwt</c> section is present, JWT
    /// bearer tokens: issuer, audience and algorithms pinned, signature, expiry and lifetime required,
    /// zero clock skew. A bad section stops start-up with a message naming the key.
    /// </summary>
    public static IServiceCollection AddAdminAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var jwt = configuration.GetSection(JwtSection);
        if (!jwt.Exists())
        {
            services.AddSingleton(AdminJwtPolicy.Disabled);
            return services;
        }

        var issuer = Required(jwt, "Issuer");
        var audience = Required(jwt, "Audience");
        var signing = JwtSigningKeyOptions.Read(jwt);
        var scope = jwt["RequiredScope"];
        services.AddSingleton(new AdminJwtPolicy(true, string.IsNullOrWhiteSpace(scope) ? null : scope));
        services.AddAuthentication().AddJwtBearer(JwtScheme, o =>
        {
            o.MapInboundClaims = false;
            o.RequireHttpsMetadata = false;
            o.TokenValidationParameters = new TokenValidationParameters
            {
                ValidateIssuer = true,
                ValidIssuer = issuer,
                ValidateAudience = true,
                ValidAudience = audience,
                ValidAlgorithms = signing.Algorithms,
                ValidateIssuerSigningKey = true,
                IssuerSigningKey = signing.Key,
                RequireSignedTokens = true,
                RequireExpirationTime = true,
                ValidateLifetime = true,
                ClockSkew = TimeSpan.Zero,
            };
        });
        return services;
    }

    private static string Required(IConfigurationSection jwt, string name) =>
        string.IsNullOrWhiteSpace(jwt[name])
            ? throw new InvalidOperationException($"{JwtSection}:{name} is required when the {JwtSection} section is present.")
            : jwt[name]!;
}
