using System.Security.Cryptography;
using System.Text;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Tests.Enforcement;

public class PseudonymizerTests
{
    private static readonly byte[] Key = Enumerable.Range(0, 32).Select(i => (byte)(255 - i)).ToArray();

    // Independent of the implementation: the classic HMAC API and base64 with the url alphabet by hand.
    private static string Expected(byte[] key, string subject, string value)
    {
        var data = Encoding.UTF8.GetBytes(subject).Concat(new byte[] { 0 }).Concat(Encoding.UTF8.GetBytes(value)).ToArray();
        using var hmac = new HMACSHA256(key);
        return Convert.ToBase64String(hmac.ComputeHash(data)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    [Theory]
    [InlineData("s1", "ann@example.com")]
    [InlineData("", "")]
    [InlineData("subject", "😀 漢字")]
    public void Matches_hmac_sha256_over_subject_nul_value_in_base64url(string subject, string value)
    {
        var pseudonym = new Pseudonymizer(Key).Pseudonymise(subject, value);
        Assert.Equal(Expected(Key, subject, value), pseudonym);
        Assert.Equal(Pseudonymizer.Length, pseudonym.Length);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", pseudonym);
    }

    [Fact]
    public void Large_values_use_the_same_construction()
    {
        var value = new string('v', 5000);
        Assert.Equal(Expected(Key, "s", value), new Pseudonymizer(Key).Pseudonymise("s", value));
    }

    [Fact]
    public void Write_produces_the_same_ascii_bytes()
    {
        var p = new Pseudonymizer(Key);
        var destination = new byte[Pseudonymizer.Length + 5];
        p.Write("s1"u8, "v"u8, destination);
        Assert.Equal(p.Pseudonymise("s1", "v"), Encoding.ASCII.GetString(destination, 0, Pseudonymizer.Length));
        Assert.All(destination[Pseudonymizer.Length..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void Stable_per_subject_and_value_and_different_across_subjects_values_and_keys()
    {
        var p = new Pseudonymizer(Key);
        Assert.Equal(p.Pseudonymise("alice", "x"), p.Pseudonymise("alice", "x"));
        Assert.Equal(p.Pseudonymise("alice", "x"), new Pseudonymizer(Key).Pseudonymise("alice", "x"));
        Assert.NotEqual(p.Pseudonymise("alice", "x"), p.Pseudonymise("bob", "x"));
        Assert.NotEqual(p.Pseudonymise("alice", "x"), p.Pseudonymise("alice", "y"));
        Assert.NotEqual(p.Pseudonymise("ab", "c"), p.Pseudonymise("a", "bc"));
        var otherKey = (byte[])Key.Clone();
        otherKey[0] ^= 1;
        Assert.NotEqual(p.Pseudonymise("alice", "x"), new Pseudonymizer(otherKey).Pseudonymise("alice", "x"));
    }

    [Fact]
    public void Keeps_its_own_copy_of_the_key()
    {
        var key = (byte[])Key.Clone();
        var p = new Pseudonymizer(key);
        var before = p.Pseudonymise("s", "v");
        Array.Clear(key);
        Assert.Equal(before, p.Pseudonymise("s", "v"));
    }

    [Fact]
    public void Rejects_short_or_missing_keys_and_small_destinations()
    {
        Assert.Throws<ArgumentException>(() => new Pseudonymizer(new byte[31]));
        Assert.Throws<ArgumentNullException>(() => new Pseudonymizer(null!));
        _ = new Pseudonymizer(new byte[32]);
        var p = new Pseudonymizer(Key);
        Assert.Throws<ArgumentException>(() => p.Write("s"u8, "v"u8, new byte[42]));
    }
}
