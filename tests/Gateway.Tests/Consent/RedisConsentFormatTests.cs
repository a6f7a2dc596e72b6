using System.Text;
using ConsentGateway.Consent;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace ConsentGateway.Tests.Consent;

public sealed class RedisConsentFormatTests
{
    [Fact]
    public void What_the_gateway_writes_it_reads_back()
    {
        var updated = new DateTimeOffset(2026, 5, 1, 10, 0, 0, 123, TimeSpan.Zero);
        var expires = new DateTimeOffset(2027, 1, 1, 1, 0, 0, TimeSpan.FromHours(1)); // written as UTC
        var json = RedisConsentFormat.FormatPurpose(ConsentStatus.Granted, expires, updated, "cmp \"x\"");

        Assert.Equal("""{"status":"granted","expiresAt":"2027-01-01T00:00:00Z","updatedAt":"2026-05-01T10:00:00.123Z","source":"cmp \u0022x\u0022"}""", Encoding.UTF8.GetString(json));
        Assert.True(RedisConsentFormat.TryParsePurpose("marketing", json, out var p));
        Assert.Equal(new PurposeConsent("marketing", ConsentStatus.Granted, expires, updated, "cmp \"x\""), p);
    }

    [Theory]
    [InlineData("""{"status":"denied"}""", "Denied")]
    [InlineData("""{"status":"granted","expiresAt":null,"updatedAt":null,"source":null,"extra":{"a":[1,2]}}""", "Granted")]
    [InlineData(""" { "source" : "x", "status" : "granted" } """, "Granted")]
    public void Valid_values_parse(string json, string expected)
    {
        Assert.True(RedisConsentFormat.TryParsePurpose("p", Encoding.UTF8.GetBytes(json), out var p));
        Assert.Equal(expected, p.Status.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("granted")]
    [InlineData("[]")]
    [InlineData("{\"status\":\"granted\"")]
    [InlineData("""{"status":"granted"} trailing""")]
    [InlineData("""{"status":"Granted"}""")]
    [InlineData("""{"status":"maybe"}""")]
    [InlineData("""{"status":1}""")]
    [InlineData("""{"expiresAt":null}""")]
    [InlineData("""{"status":"granted","expiresAt":"next year"}""")]
    [InlineData("""{"status":"granted","expiresAt":1767225600}""")]
    [InlineData("""{"status":"granted","updatedAt":"yesterday"}""")]
    [InlineData("""{"status":"granted","source":{"name":"x"}}""")]
    public void Unparsable_values_read_as_denied(string json)
    {
        var p = RedisConsentFormat.ParsePurpose("marketing", (RedisValue)json, NullLogger.Instance);

        Assert.Equal(ConsentStatus.Denied, p.Status);
        Assert.Null(p.ExpiresAt);
    }

    [Fact]
    public void An_empty_hash_is_no_record_and_gpc_zero_is_no_gpc()
    {
        Assert.Null(RedisConsentFormat.Parse([], NullLogger.Instance));
        var c = RedisConsentFormat.Parse([new HashEntry("v", 7), new HashEntry("gpc", "0"), new HashEntry("p:", "{}")], NullLogger.Instance)!;
        Assert.Equal((7L, false, 0), (c.Version, c.Gpc, c.Purposes.Length));
    }
}
