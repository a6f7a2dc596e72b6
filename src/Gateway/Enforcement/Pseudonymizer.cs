using System.Buffers.Text;
using System.Text;

namespace ConsentGateway.Enforcement;

/// <summary>
/// Keyed pseudonyms: base64url(HMAC-SHA256(key, subject ‖ 0x00 ‖ value)) without padding. Keyed so
/// that nobody without the key can confirm a guessed value by hashing it; the subject is mixed in so
/// the same value (a shared phone number, a common name) cannot be linked across subjects.
/// </summary>
internal sealed class Pseudonymizer
{
    /// <summary>ASCII length of a pseudonym: 32 hash bytes in unpadded base64url.</summary>
    public const int Length = 43;

    private const int MinKeyLength = 32;

    private readonly HmacSha256 _hmac;

    public Pseudonymizer(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < MinKeyLength)
        {
            throw new ArgumentException($"The pseudonymisation key must be at least {MinKeyLength} bytes (got {key.Length}).", nameof(key));
        }

        // Only the key's two pad states are kept, so a caller clearing or reusing its array changes nothing.
        _hmac = new HmacSha256(key);
    }

    /// <summary>Where the HMAC's SHA-256 blocks are compressed, for the start-up log.</summary>
    public string HashImplementation => _hmac.CompressionName;

    /// <summary>Writes the <see cref="Length"/>-byte ASCII pseudonym of <paramref name="value"/> for this subject.</summary>
    public void Write(ReadOnlySpan<byte> subjectUtf8, ReadOnlySpan<byte> value, Span<byte> destination)
    {
        if (destination.Length < Length)
        {
            throw new ArgumentException($"The destination must hold {Length} bytes.", nameof(destination));
        }

        Span<byte> hash = stackalloc byte[HmacSha256.HashSizeInBytes];
        _hmac.Compute(subjectUtf8, Separator, value, hash);
        int written = Base64Url.EncodeToUtf8(hash, destination);
        System.Diagnostics.Debug.Assert(written == Length, "32 bytes encode to 43 base64url characters");
    }

    private static ReadOnlySpan<byte> Separator => [0];

    /// <summary>Convenience for non-hot paths (headers, query parameters, tests).</summary>
    public string Pseudonymise(string subject, string value)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(value);
        Span<byte> destination = stackalloc byte[Length];
        Write(Encoding.UTF8.GetBytes(subject), Encoding.UTF8.GetBytes(value), destination);
        return Encoding.ASCII.GetString(destination);
    }
}
