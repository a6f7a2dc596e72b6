using ConsentGateway.Hosting;
using Microsoft.Extensions.Options;

namespace ConsentGateway.Admin;

/// <summary>Admin API keys, compared as SHA-256 hashes in constant time.</summary>
internal sealed class AdminAuthenticator(IOptionsMonitor<GatewayOptions> options)
{
    public const string Header = "X-Admin-Key";

    public bool IsAuthorized(HttpRequest request)
    {
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
