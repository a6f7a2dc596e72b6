using System.Security.Cryptography;
using ConsentGateway.Enforcement;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>
/// The gateway's HMAC-SHA256 against RFC 4231's vectors and against the platform's HMACSHA256, with
/// each way of compressing SHA-256 blocks: the managed rounds and libcrypto's SHA256_Transform.
/// </summary>
public class HmacSha256Tests
{
    public static TheoryData<string> Compressions => ["managed", "libcrypto"];

    /// <summary>The named compression; libcrypto's must be there on Linux, where .NET itself needs OpenSSL.</summary>
    private static Sha256Compression Compression(string name)
    {
        if (name == "managed")
        {
            return Sha256Compression.Managed;
        }

        Assert.True(OperatingSystem.IsLinux(), "libcrypto's SHA256_Transform is only looked for on Linux");
        return Assert.IsType<Sha256Compression>(Sha256Compression.LibCrypto, exactMatch: false);
    }

    private static string Hmac(Sha256Compression compression, byte[] key, byte[] message, int split1 = 0, int split2 = 0)
    {
        split1 = Math.Min(split1, message.Length);
        split2 = Math.Clamp(split2, split1, message.Length);
        var hash = new byte[HmacSha256.HashSizeInBytes];
        new HmacSha256(key, compression).Compute(message.AsSpan(0, split1), message.AsSpan(split1, split2 - split1), message.AsSpan(split2), hash);
        return Convert.ToHexStringLower(hash);
    }

    [Fact]
    public void The_gateway_uses_libcryptos_block_function_on_linux()
    {
        Assert.True(OperatingSystem.IsLinux(), "the test bed is Linux");
        Assert.Same(Sha256Compression.LibCrypto, Sha256Compression.Fastest);
        Assert.StartsWith("libcrypto.so", new HmacSha256(new byte[32]).CompressionName, StringComparison.Ordinal);
        Assert.StartsWith("libcrypto.so", new Pseudonymizer(new byte[32]).HashImplementation, StringComparison.Ordinal);
    }

    // RFC 4231 section 4, HMAC-SHA-256 results (test case 5, truncated output, is covered by case 1's full output).
    [Theory]
    [InlineData("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")]
    [InlineData("4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")]
    [InlineData("0102030405060708090a0b0c0d0e0f10111213141516171819", "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")]
    [InlineData(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")]
    [InlineData(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c676f726974686d2e",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")]
    public void Matches_the_rfc_4231_vectors(string keyHex, string dataHex, string expectedHex)
    {
        var key = Convert.FromHexString(keyHex);
        var data = Convert.FromHexString(dataHex);
        foreach (var name in new[] { "managed", "libcrypto" })
        {
            var compression = Compression(name);
            Assert.Equal(expectedHex, Hmac(compression, key, data));
            Assert.Equal(expectedHex, Hmac(compression, key, data, data.Length / 3, data.Length / 2)); // split into three parts
        }
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void Every_length_around_the_padding_boundaries_matches_the_platform(string name)
    {
        var compression = Compression(name);
        // 55/56 bytes decide whether the length fits the last block; 64 is one whole block; keys at and past 64 are hashed first.
        var key32 = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var key64 = Enumerable.Range(1, 64).Select(i => (byte)i).ToArray();
        var key65 = Enumerable.Range(1, 65).Select(i => (byte)i).ToArray();
        foreach (var key in new[] { key32, key64, key65, Array.Empty<byte>() })
        {
            for (var length = 0; length <= 200; length++)
            {
                var message = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
                var expected = Convert.ToHexStringLower(HMACSHA256.HashData(key, message));
                Assert.Equal(expected, Hmac(compression, key, message));
                Assert.Equal(expected, Hmac(compression, key, message, length / 2, length / 2 + 1));
            }
        }
    }

    [Property(MaxTest = 300)]
    public Property Random_keys_messages_and_splits_match_the_platform_managed() => RandomCases(Sha256Compression.Managed);

    [Property(MaxTest = 300)]
    public Property Random_keys_messages_and_splits_match_the_platform_libcrypto() => RandomCases(Compression("libcrypto"));

    private static Property RandomCases(Sha256Compression compression) =>
        Prop.ForAll(
            Arb.From(
                from key in Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i))
                from message in Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i))
                from a in Gen.Choose(0, 400)
                from b in Gen.Choose(0, 400)
                select (key, message, a, b)),
            c => Hmac(compression, c.key, c.message, Math.Min(c.a, c.b), Math.Max(c.a, c.b)) == Convert.ToHexStringLower(HMACSHA256.HashData(c.key, c.message)));

    [Theory]
    [MemberData(nameof(Compressions))]
    public async Task One_instance_serves_many_threads_at_once(string name)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var hmac = new HmacSha256(key, Compression(name));
        var failures = 0;
        await Parallel.ForAsync(0, 2000, (i, _) =>
        {
            var message = BitConverter.GetBytes(i * 2654435761u);
            var hash = new byte[32];
            hmac.Compute(message, [], [], hash);
            if (!hash.AsSpan().SequenceEqual(HMACSHA256.HashData(key, message)))
            {
                Interlocked.Increment(ref failures);
            }

            return ValueTask.CompletedTask;
        });
        Assert.Equal(0, failures);
    }

    [Fact]
    public void Rejects_a_destination_too_small()
    {
        var hmac = new HmacSha256(new byte[32]);
        Assert.Throws<ArgumentException>(() => hmac.Compute([], [], [], new byte[31]));
    }
}
