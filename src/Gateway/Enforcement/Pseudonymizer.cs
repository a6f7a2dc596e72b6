using System.Buffers;
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
    private const int StackLimit = 512;

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

        int dataLength = subjectUtf8.Length + 1 + value.Length;
        byte[]? rented = null;
        Span<byte> data = dataLength <= StackLimit
            ? stackalloc byte[StackLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(dataLength));
        data = data[..dataLength];
        try
        {
            subjectUtf8.CopyTo(data);
            data[subjectUtf8.Length] = 0;
            value.CopyTo(data[(subjectUtf8.Length + 1)..]);

            Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
            HMACSHA256.HashData(_key, data, hash);
            int written = Base64Url.EncodeToUtf8(hash, destination);
            System.Diagnostics.Debug.Assert(written == Length, "32 bytes encode to 43 base64url characters");
        }
        finally
        {
            // The buffer held a personal value; pooled arrays outlive this call.
            data.Clear();
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

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
