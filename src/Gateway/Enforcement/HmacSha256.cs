using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace ConsentGateway.Enforcement;

/// <summary>
/// HMAC-SHA256 (RFC 2104 over FIPS 180-4) under one fixed key, for the pseudonyms: the padding and
/// the HMAC construction here, each block compressed by a <see cref="Sha256Compression"/>.
/// </summary>
/// <remarks>
/// Why not the platform's: through OpenSSL each pseudonym is several P/Invokes plus OpenSSL 3's
/// per-call bookkeeping (error-queue clearing, context copy, malloc/free). Microbenchmarks hide that
/// (about 0.8 µs either way, hot), but under load with cold caches the POST 8 KB profile charged
/// about 4 µs per pseudonym to libcrypto and its libc calls. Here the key's two pad blocks are
/// compressed once at construction, so a short message costs two compressions, nothing is
/// allocated, and the instance is immutable and thread-safe. The compressions themselves are
/// libcrypto's bare block function where it is available (SHA-NI: about 55 ns a block against 400
/// for the managed rounds), with no EVP layer around it. SHA-256 has no secret-dependent branches
/// or table indices, so neither adds a timing channel. Every output of both is checked against
/// <see cref="HMACSHA256"/> by the tests (RFC 4231 vectors and random keys and messages).
/// </remarks>
internal sealed class HmacSha256
{
    public const int HashSizeInBytes = 32;
    private const int BlockSize = Sha256Compression.BlockSize;

    private readonly Sha256Compression _compression;
    private readonly uint[] _innerState = new uint[8];
    private readonly uint[] _outerState = new uint[8];

    /// <param name="key">The key; only its two pad states are kept.</param>
    /// <param name="compression">How blocks are compressed; <see cref="Sha256Compression.Fastest"/> unless a test pins one.</param>
    public HmacSha256(ReadOnlySpan<byte> key, Sha256Compression? compression = null)
    {
        _compression = compression ?? Sha256Compression.Fastest;
        Span<byte> padded = stackalloc byte[BlockSize];
        Span<byte> pad = stackalloc byte[BlockSize];
        Span<uint> state = stackalloc uint[Sha256Compression.StateWords];
        Span<uint> schedule = stackalloc uint[Sha256Compression.ScheduleWords];
        padded.Clear();
        if (key.Length > BlockSize)
        {
            SHA256.HashData(key, padded); // RFC 2104: a key longer than a block is hashed first
        }
        else
        {
            key.CopyTo(padded);
        }

        for (var i = 0; i < BlockSize; i++)
        {
            pad[i] = (byte)(padded[i] ^ 0x36);
        }

        Sha256Compression.InitialState.CopyTo(state);
        _compression.Compress(state, pad, schedule);
        state[..8].CopyTo(_innerState);
        for (var i = 0; i < BlockSize; i++)
        {
            pad[i] = (byte)(padded[i] ^ 0x5c);
        }

        Sha256Compression.InitialState.CopyTo(state);
        _compression.Compress(state, pad, schedule);
        state[..8].CopyTo(_outerState);
        CryptographicOperations.ZeroMemory(padded);
        CryptographicOperations.ZeroMemory(pad);
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(state));
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(schedule));
    }

    /// <summary>Where this instance's blocks are compressed (for the start-up log).</summary>
    public string CompressionName => _compression.Name;

    /// <summary>
    /// Writes the HMAC of <paramref name="first"/> ‖ <paramref name="second"/> ‖ <paramref name="third"/>
    /// to <paramref name="destination"/>; the parts are hashed in place, so a caller never concatenates
    /// personal data into a buffer of its own. The stack buffers that held message bytes are cleared.
    /// </summary>
    public void Compute(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, ReadOnlySpan<byte> third, Span<byte> destination)
    {
        if (destination.Length < HashSizeInBytes)
        {
            throw new ArgumentException($"The destination must hold {HashSizeInBytes} bytes.", nameof(destination));
        }

        Span<uint> state = stackalloc uint[Sha256Compression.StateWords];
        Span<uint> schedule = stackalloc uint[Sha256Compression.ScheduleWords];
        Span<byte> block = stackalloc byte[BlockSize];
        _innerState.CopyTo(state);
        int filled = 0;
        Absorb(state, block, ref filled, first, schedule);
        Absorb(state, block, ref filled, second, schedule);
        Absorb(state, block, ref filled, third, schedule);
        long messageBytes = (long)first.Length + second.Length + third.Length;
        Finish(state, block, filled, BlockSize + messageBytes, schedule);

        // The outer hash: the inner digest, padded, after the outer pad block compressed at construction.
        for (var i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(block[(i * 4)..], state[i]);
        }

        _outerState.CopyTo(state);
        Finish(state, block, HashSizeInBytes, BlockSize + HashSizeInBytes, schedule);
        for (var i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[(i * 4)..], state[i]);
        }

        CryptographicOperations.ZeroMemory(block);
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(schedule));
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(state));
    }

    private void Absorb(Span<uint> state, Span<byte> block, ref int filled, ReadOnlySpan<byte> data, Span<uint> schedule)
    {
        while (!data.IsEmpty)
        {
            if (filled == 0 && data.Length >= BlockSize)
            {
                _compression.Compress(state, data[..BlockSize], schedule); // whole blocks straight from the input
                data = data[BlockSize..];
                continue;
            }

            int n = Math.Min(BlockSize - filled, data.Length);
            data[..n].CopyTo(block[filled..]);
            filled += n;
            data = data[n..];
            if (filled == BlockSize)
            {
                _compression.Compress(state, block, schedule);
                filled = 0;
            }
        }
    }

    /// <summary>FIPS 180-4 padding (0x80, zeros, the bit length big-endian) and the last compression(s).</summary>
    private void Finish(Span<uint> state, Span<byte> block, int filled, long totalBytes, Span<uint> schedule)
    {
        block[filled++] = 0x80;
        if (filled > BlockSize - 8)
        {
            block[filled..].Clear();
            _compression.Compress(state, block, schedule);
            filled = 0;
        }

        block[filled..(BlockSize - 8)].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(block[(BlockSize - 8)..], (ulong)totalBytes * 8);
        _compression.Compress(state, block, schedule);
    }
}
