using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Benchmarks;

/// <summary>
/// What one pseudonym costs, and whether another way of computing the same HMAC-SHA256 would be
/// cheaper: the gateway's <see cref="Pseudonymizer"/> (a per-thread keyed IncrementalHash through
/// OpenSSL), the framework's one-shot HMACSHA256.HashData, and a fully managed HMAC from the two
/// pad states precomputed once (<see cref="ManagedHmac"/>: two SHA-256 compressions per short
/// message and no interop). The message is the 36-byte subject, a 0x00 and a 16-digit card number,
/// as the filter benchmarks hash. Each setup checks that all three give the same 32 bytes.
/// </summary>
[Config(typeof(BenchConfig))]
public class PseudonymBenchmarks
{
    private readonly byte[] _subject = "3b1f0c52-7d7e-4f3a-9a66-0c1f2d3e4b5a"u8.ToArray();
    private readonly byte[] _value = "4111111111111111"u8.ToArray();
    private readonly byte[] _pseudonym = new byte[Pseudonymizer.Length];
    private readonly byte[] _hash = new byte[32];
    private byte[] _key = null!;
    private byte[] _message = null!;
    private Pseudonymizer _pseudonymizer = null!;
    private ManagedHmac _managed = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        _message = [.. _subject, 0, .. _value];
        _pseudonymizer = Setup.Pseudonymizer();
        _managed = new ManagedHmac(_key);

        var expected = HMACSHA256.HashData(_key, _message);
        _managed.Compute(_message, _hash);
        if (!expected.AsSpan().SequenceEqual(_hash))
        {
            throw new InvalidOperationException("managed HMAC disagrees with HMACSHA256");
        }

        _pseudonymizer.Write(_subject, _value, _pseudonym);
        if (!System.Buffers.Text.Base64Url.EncodeToUtf8(expected).AsSpan().SequenceEqual(_pseudonym))
        {
            throw new InvalidOperationException("Pseudonymizer disagrees with HMACSHA256");
        }
    }

    [Benchmark(Baseline = true, Description = "Pseudonymizer.Write (keyed IncrementalHash, OpenSSL)")]
    public byte Gateway()
    {
        _pseudonymizer.Write(_subject, _value, _pseudonym);
        return _pseudonym[0];
    }

    [Benchmark(Description = "HMACSHA256.HashData one-shot (OpenSSL)")]
    public byte OneShot()
    {
        HMACSHA256.HashData(_key, _message, _hash);
        return _hash[0];
    }

    [Benchmark(Description = "managed HMAC-SHA256, precomputed pads")]
    public byte Managed()
    {
        _managed.Compute(_message, _hash);
        return _hash[0];
    }

    /// <summary>
    /// HMAC-SHA256 (RFC 2104, FIPS 180-4) in managed code for messages that fit one block after the
    /// inner pad (up to 55 bytes): the inner and outer pad blocks are compressed once at construction,
    /// so each message costs two compressions. Here only to measure that alternative; the gateway
    /// keeps the platform's implementation.
    /// </summary>
    internal sealed class ManagedHmac
    {
        private readonly uint[] _inner = new uint[8];
        private readonly uint[] _outer = new uint[8];

        public ManagedHmac(byte[] key)
        {
            if (key.Length > 64)
            {
                throw new ArgumentException("Keys over one block are hashed first; not needed here.", nameof(key));
            }

            Span<byte> pad = stackalloc byte[64];
            InitialState.CopyTo(_inner);
            InitialState.CopyTo(_outer);
            for (var i = 0; i < 64; i++)
            {
                pad[i] = (byte)((i < key.Length ? key[i] : 0) ^ 0x36);
            }

            Compress(_inner, pad);
            for (var i = 0; i < 64; i++)
            {
                pad[i] = (byte)((i < key.Length ? key[i] : 0) ^ 0x5c);
            }

            Compress(_outer, pad);
        }

        public void Compute(ReadOnlySpan<byte> message, Span<byte> destination)
        {
            if (message.Length > 55)
            {
                throw new ArgumentException("One block after the pad only.", nameof(message));
            }

            Span<uint> state = stackalloc uint[8];
            Span<byte> block = stackalloc byte[64];
            _inner.CopyTo(state);
            message.CopyTo(block);
            block[message.Length] = 0x80;
            BinaryPrimitives.WriteUInt64BigEndian(block[56..], (ulong)(64 + message.Length) * 8);
            Compress(state, block);

            block.Clear();
            for (var i = 0; i < 8; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(block[(i * 4)..], state[i]);
            }

            block[32] = 0x80;
            BinaryPrimitives.WriteUInt64BigEndian(block[56..], (64 + 32) * 8);
            _outer.CopyTo(state);
            Compress(state, block);
            for (var i = 0; i < 8; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(destination[(i * 4)..], state[i]);
            }
        }

        private static ReadOnlySpan<uint> InitialState => [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

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

        /// <summary>One SHA-256 compression, rounds unrolled eight at a time with the working variables renamed instead of moved.</summary>
        private static void Compress(Span<uint> state, ReadOnlySpan<byte> block)
        {
            Span<uint> w = stackalloc uint[64];
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
}
