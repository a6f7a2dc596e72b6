using System.Security.Cryptography;
using System.Text;

namespace ConsentGateway.Hosting;

/// <summary>API keys are configured and compared as the lower-case hex SHA-256 of the key.</summary>
internal static class Sha256Hex
{
    public const int Length = 64;

    public static bool IsValid(string? hex)
    {
        if (hex is null || hex.Length != Length)
        {
            return false;
        }

        foreach (var c in hex)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Hashes <paramref name="key"/> into <paramref name="destination"/> (64 chars) without allocating.</summary>
    public static void Compute(ReadOnlySpan<char> key, Span<char> destination)
    {
        Span<byte> hash = stackalloc byte[32];
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        var rented = max <= 512 ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(max);
        Span<byte> utf8 = rented ?? stackalloc byte[512];
        var n = Encoding.UTF8.GetBytes(key, utf8);
        SHA256.HashData(utf8[..n], hash);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }

        Convert.TryToHexStringLower(hash, destination, out _);
    }

    public static string Compute(string key)
    {
        Span<char> chars = stackalloc char[Length];
        Compute(key, chars);
        return new string(chars);
    }
}
