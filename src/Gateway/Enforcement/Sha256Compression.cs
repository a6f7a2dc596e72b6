using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConsentGateway.Enforcement;

/// <summary>
/// SHA-256's compression function (FIPS 180-4 §6.2.2): one 64-byte block into an eight-word state.
/// <see cref="HmacSha256"/> drives it; this type only chooses how a block is compressed.
/// </summary>
/// <remarks>
/// .NET exposes no SHA-NI intrinsics, so the managed rounds cost about 400 ns a block on this
/// project's EPYC hosts, where the CPU's own SHA instructions take about 55 ns. OpenSSL's
/// <c>SHA256_Transform</c> is exactly the compression function (its own assembly, using SHA-NI where
/// the CPU has it) with none of the EVP layer's per-call bookkeeping that made the platform's
/// HMAC slow under load (see <see cref="HmacSha256"/>): it reads a block and updates the first eight
/// words of the context it is given, nothing else. It is taken from the libcrypto that .NET itself
/// uses on Linux only after it has matched the managed rounds on known blocks; anywhere it is
/// missing or disagrees, the managed rounds are used.
/// </remarks>
internal abstract class Sha256Compression
{
    /// <summary>
    /// Words a state buffer must hold: h0..h7 first, then room for the rest of OpenSSL's
    /// <c>SHA256_CTX</c> (112 bytes), which <c>SHA256_Transform</c> is declared to take.
    /// </summary>
    public const int StateWords = 28;

    /// <summary>Words of the message schedule the managed rounds need.</summary>
    public const int ScheduleWords = 64;

    public const int BlockSize = 64;

    public static Sha256Compression Managed { get; } = new ManagedRounds();

    /// <summary>libcrypto's <c>SHA256_Transform</c>, when it is loadable here and passed the self-test; else null.</summary>
    public static Sha256Compression? LibCrypto { get; } = LibCryptoTransform.TryLoad();

    /// <summary>What the gateway uses: libcrypto's when available, else the managed rounds.</summary>
    public static Sha256Compression Fastest => LibCrypto ?? Managed;

    /// <summary>For the start-up log: where blocks are compressed.</summary>
    public abstract string Name { get; }

    public static ReadOnlySpan<uint> InitialState => [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

    /// <param name="state"><see cref="StateWords"/> words; h0..h7 in the first eight are updated.</param>
    /// <param name="block">Exactly <see cref="BlockSize"/> bytes of message.</param>
    /// <param name="schedule"><see cref="ScheduleWords"/> words of scratch (the caller clears it afterwards).</param>
    public abstract void Compress(Span<uint> state, ReadOnlySpan<byte> block, Span<uint> schedule);

    /// <summary>
    /// The known-answer check a native block function must pass before it is used: a chain of eight
    /// blocks from the initial state (every byte value appears) gives the same state after each block.
    /// </summary>
    internal static bool Agree(Sha256Compression candidate, Sha256Compression reference)
    {
        Span<uint> mine = stackalloc uint[StateWords];
        Span<uint> theirs = stackalloc uint[StateWords];
        Span<uint> schedule = stackalloc uint[ScheduleWords];
        Span<byte> block = stackalloc byte[BlockSize];
        InitialState.CopyTo(mine);
        InitialState.CopyTo(theirs);
        for (var n = 0; n < 8; n++)
        {
            for (var i = 0; i < BlockSize; i++)
            {
                block[i] = (byte)((n * BlockSize) + i);
            }

            candidate.Compress(mine, block, schedule);
            reference.Compress(theirs, block, schedule);
            if (!mine[..8].SequenceEqual(theirs[..8]))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class ManagedRounds : Sha256Compression
    {
        public override string Name => "managed rounds";

        private static ReadOnlySpan<uint> RoundConstants =>
        [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
        ];

        /// <summary>Rounds unrolled eight at a time, the working variables renamed rather than moved.</summary>
        public override void Compress(Span<uint> state, ReadOnlySpan<byte> block, Span<uint> w)
        {
            for (var i = 0; i < 16; i++)
            {
                w[i] = BinaryPrimitives.ReadUInt32BigEndian(block[(i * 4)..]);
            }

            for (var i = 16; i < 64; i++)
            {
                uint x = w[i - 15], y = w[i - 2];
                w[i] = w[i - 16] + (BitOperations.RotateRight(x, 7) ^ BitOperations.RotateRight(x, 18) ^ (x >> 3))
                    + w[i - 7] + (BitOperations.RotateRight(y, 17) ^ BitOperations.RotateRight(y, 19) ^ (y >> 10));
            }

            uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
            ref var k = ref MemoryMarshal.GetReference(RoundConstants);
            ref var wr = ref MemoryMarshal.GetReference(w);
            for (var i = 0; i < 64; i += 8)
            {
                Round(a, b, c, ref d, e, f, g, ref h, Unsafe.Add(ref k, i) + Unsafe.Add(ref wr, i));
                Round(h, a, b, ref c, d, e, f, ref g, Unsafe.Add(ref k, i + 1) + Unsafe.Add(ref wr, i + 1));
                Round(g, h, a, ref b, c, d, e, ref f, Unsafe.Add(ref k, i + 2) + Unsafe.Add(ref wr, i + 2));
                Round(f, g, h, ref a, b, c, d, ref e, Unsafe.Add(ref k, i + 3) + Unsafe.Add(ref wr, i + 3));
                Round(e, f, g, ref h, a, b, c, ref d, Unsafe.Add(ref k, i + 4) + Unsafe.Add(ref wr, i + 4));
                Round(d, e, f, ref g, h, a, b, ref c, Unsafe.Add(ref k, i + 5) + Unsafe.Add(ref wr, i + 5));
                Round(c, d, e, ref f, g, h, a, ref b, Unsafe.Add(ref k, i + 6) + Unsafe.Add(ref wr, i + 6));
                Round(b, c, d, ref e, f, g, h, ref a, Unsafe.Add(ref k, i + 7) + Unsafe.Add(ref wr, i + 7));
            }

            state[0] += a;
            state[1] += b;
            state[2] += c;
            state[3] += d;
            state[4] += e;
            state[5] += f;
            state[6] += g;
            state[7] += h;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Round(uint a, uint b, uint c, ref uint d, uint e, uint f, uint g, ref uint h, uint kw)
        {
            h += (BitOperations.RotateRight(e, 6) ^ BitOperations.RotateRight(e, 11) ^ BitOperations.RotateRight(e, 25)) + (g ^ (e & (f ^ g))) + kw;
            d += h;
            h += (BitOperations.RotateRight(a, 2) ^ BitOperations.RotateRight(a, 13) ^ BitOperations.RotateRight(a, 22)) + ((a & b) | (c & (a | b)));
        }
    }

    /// <summary>
    /// <c>void SHA256_Transform(SHA256_CTX *c, const unsigned char *data)</c>, called without a GC
    /// transition: it runs for well under a microsecond, never blocks, allocates or calls back.
    /// </summary>
    private sealed unsafe class LibCryptoTransform(string library, delegate* unmanaged[Cdecl, SuppressGCTransition]<uint*, byte*, void> transform) : Sha256Compression
    {
        // The two sonames .NET's own OpenSSL shim looks for on Linux, newest first.
        private static readonly string[] Libraries = ["libcrypto.so.3", "libcrypto.so.1.1"];

        public override string Name { get; } = $"{library} SHA256_Transform";

        public override void Compress(Span<uint> state, ReadOnlySpan<byte> block, Span<uint> schedule)
        {
            // Checked, not asserted: the native side trusts these lengths.
            if (state.Length < StateWords || block.Length != BlockSize)
            {
                throw new ArgumentException("A SHA-256 state buffer and one whole block are required.");
            }

            fixed (uint* s = state)
            fixed (byte* b = block)
            {
                transform(s, b);
            }
        }

        public static LibCryptoTransform? TryLoad()
        {
            if (!OperatingSystem.IsLinux())
            {
                return null;
            }

            foreach (var name in Libraries)
            {
                if (NativeLibrary.TryLoad(name, out var handle) && NativeLibrary.TryGetExport(handle, "SHA256_Transform", out var export))
                {
                    var candidate = new LibCryptoTransform(name, (delegate* unmanaged[Cdecl, SuppressGCTransition]<uint*, byte*, void>)export);
                    return Agree(candidate, Managed) ? candidate : null;
                }
            }

            return null;
        }
    }
}
