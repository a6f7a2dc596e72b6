using System.Buffers.Text;
using System.Security.Cryptography;
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

    /// <summary>Messages up to this long are hashed from one stack buffer (see <see cref="Write"/>).</summary>
    private const int StackMessageBytes = 256;

    private readonly byte[] _key;

    public Pseudonymizer(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < MinKeyLength)
        {
            throw new ArgumentException($"The pseudonymisation key must be at least {MinKeyLength} bytes (got {key.Length}).", nameof(key));
        }

        // Own copy: a caller clearing or reusing its array must not change every pseudonym.
        _key = (byte[])key.Clone();
    }

    /// <summary>Writes the <see cref="Length"/>-byte ASCII pseudonym of <paramref name="value"/> for this subject.</summary>
    public void Write(ReadOnlySpan<byte> subjectUtf8, ReadOnlySpan<byte> value, Span<byte> destination)
    {
        if (destination.Length < Length)
        {
            throw new ArgumentException($"The destination must hold {Length} bytes.", nameof(destination));
        }

        // One AppendData instead of three: each is a P/Invoke into OpenSSL, which for the short values
        // filtered here cost more than the copy. The buffer holds a personal value, so it is cleared.
        var hmac = KeyedHmac();
        int total = subjectUtf8.Length + 1 + value.Length;
        if (total <= StackMessageBytes)
        {
            Span<byte> message = stackalloc byte[StackMessageBytes];
            subjectUtf8.CopyTo(message);
            message[subjectUtf8.Length] = 0;
            value.CopyTo(message[(subjectUtf8.Length + 1)..]);
            hmac.AppendData(message[..total]);
            CryptographicOperations.ZeroMemory(message[..total]);
        }
        else
        {
            // Feeding the parts to a keyed HMAC is the same as hashing subject ‖ 0x00 ‖ value, without
            // copying a long personal value into a buffer that would then need clearing.
            hmac.AppendData(subjectUtf8);
            hmac.AppendData(Separator);
            hmac.AppendData(value);
        }

        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        hmac.GetHashAndReset(hash);
        int written = Base64Url.EncodeToUtf8(hash, destination);
        System.Diagnostics.Debug.Assert(written == Length, "32 bytes encode to 43 base64url characters");
    }

    /// <summary>
    /// A per-thread HMAC already keyed with this instance's key. The one-shot HMACSHA256.HashData sets
    /// the key up again on every call, which with OpenSSL 3 cost several microseconds per pseudonym in
    /// the load-test profile; a reset keeps the key schedule.
    /// </summary>
    private IncrementalHash KeyedHmac()
    {
        var cached = t_hmac;
        if (cached is not null && ReferenceEquals(cached.Owner, this))
        {
            return cached.Hmac;
        }

        cached?.Hmac.Dispose();
        var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        t_hmac = new ThreadHmac(this, hmac);
        return hmac;
    }

    private static ReadOnlySpan<byte> Separator => [0];

    [ThreadStatic]
    private static ThreadHmac? t_hmac;

    private sealed record ThreadHmac(Pseudonymizer Owner, IncrementalHash Hmac);

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
