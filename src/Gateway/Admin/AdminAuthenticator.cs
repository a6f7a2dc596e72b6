using ConsentGateway.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ConsentGateway.Admin;

/// <summary>
/// Admin credentials: an admin key (compared as SHA-256 hashes in constant time) or, when
/// <c>Admin:Jwt</c> is configured, a valid bearer token. Either one authorises.
/// </summary>
internal sealed class AdminAuthenticator(IOptionsMonitor<GatewayOptions> options, AdminJwtPolicy jwt, ILogger<AdminAuthenticator> logger)
{
    public const string Header = "X-Admin-Key";

    public async ValueTask<bool> IsAuthorizedAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (IsAuthorized(context.Request))
        {
            return true;
        }

        if (!jwt.Enabled || !context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var result = await context.AuthenticateAsync(AdminAuthenticationExtensions.JwtScheme).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            AdminLog.TokenRejected(logger, result.Failure);
            return false;
        }

        if (!jwt.HasRequiredScope(result.Principal))
        {
            AdminLog.TokenRejected(logger, "missing-scope");
            return false;
        }

        return true;
    }

    public bool IsAuthorized(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Headers.TryGetValue(Header, out var values) || values.Count != 1 || string.IsNullOrEmpty(values[0]))
        {
            return false;
        }

        Span<char> hash = stackalloc char[Sha256Hex.Length];
        Sha256Hex.Compute(values[0], hash);
        var authorized = false;
        foreach (var configured in options.CurrentValue.AdminKeys)
        {
            // Compare against every key without early exit so timing says nothing about which matched.
            authorized |= System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(hash),
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(configured.AsSpan()));
        }

        return authorized;
    }
}
