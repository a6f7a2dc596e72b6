using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Benchmarks;

/// <summary>
/// What one pseudonym costs against the other ways of computing the same HMAC-SHA256: the
/// gateway's <see cref="Pseudonymizer"/> (<see cref="HmacSha256"/>, pad states precomputed: two
/// SHA-256 compressions per short message, each by libcrypto's bare SHA256_Transform where it is
/// available), the same HMAC with the managed rounds (the gateway's from session 7 to 12), a
/// per-thread keyed IncrementalHash through OpenSSL (the gateway's until session 7), and the one-shot
/// HMACSHA256.HashData.
/// The message is the 36-byte subject, a 0x00 and a 16-digit card number, as the filter benchmarks
/// hash. The setup checks that all three give the same 32 bytes. Hot loops hide OpenSSL's per-call
/// bookkeeping, which under load cost far more than here (see HmacSha256's remarks).
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
    private HmacSha256 _managedRounds = null!;
    private IncrementalHash _keyed = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        _message = [.. _subject, 0, .. _value];
        _pseudonymizer = Setup.Pseudonymizer();
        _keyed = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        _managedRounds = new HmacSha256(_key, Sha256Compression.Managed);

        var expected = HMACSHA256.HashData(_key, _message);
        _keyed.AppendData(_message);
        _keyed.GetHashAndReset(_hash);
        if (!expected.AsSpan().SequenceEqual(_hash))
        {
            throw new InvalidOperationException("keyed IncrementalHash disagrees with HMACSHA256");
        }

        _pseudonymizer.Write(_subject, _value, _pseudonym);
        if (!System.Buffers.Text.Base64Url.EncodeToUtf8(expected).AsSpan().SequenceEqual(_pseudonym))
        {
            throw new InvalidOperationException("Pseudonymizer disagrees with HMACSHA256");
        }

        _managedRounds.Compute(_subject, [0], _value, _hash);
        if (!expected.AsSpan().SequenceEqual(_hash))
        {
            throw new InvalidOperationException("the managed rounds disagree with HMACSHA256");
        }
    }

    [GlobalCleanup]
    public void GlobalCleanup() => _keyed.Dispose();

    [Benchmark(Baseline = true, Description = "Pseudonymizer.Write (libcrypto's block function where available, base64url)")]
    public byte Gateway()
    {
        _pseudonymizer.Write(_subject, _value, _pseudonym);
        return _pseudonym[0];
    }

    [Benchmark(Description = "HmacSha256 with the managed rounds, hash only")]
    public byte ManagedRounds()
    {
        _managedRounds.Compute(_subject, [0], _value, _hash);
        return _hash[0];
    }

    [Benchmark(Description = "HMACSHA256.HashData one-shot (OpenSSL)")]
    public byte OneShot()
    {
        HMACSHA256.HashData(_key, _message, _hash);
        return _hash[0];
    }

    [Benchmark(Description = "keyed IncrementalHash per thread (OpenSSL), hash only")]
    public byte KeyedPlatform()
    {
        _keyed.AppendData(_message);
        _keyed.GetHashAndReset(_hash);
        return _hash[0];
    }
}
