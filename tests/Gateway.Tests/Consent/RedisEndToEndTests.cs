using System.Net;
using System.Text.Json.Nodes;
using ConsentGateway.Testing;
using ConsentGateway.Tests.Infrastructure;
using StackExchange.Redis;
using static ConsentGateway.Tests.Infrastructure.GatewayHost;

namespace ConsentGateway.Tests.Consent;

/// <summary>A gateway on a real redis-server, with a second plain client playing the consent platform.</summary>
public class RedisGatewayFixture : GatewayFixture
{
    public RedisServer Redis { get; } = new();

    protected override IDictionary<string, string?>? SettingOverrides() => new Dictionary<string, string?>
    {
        ["Consent:Redis"] = Redis.ConnectionString,
    };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Gateway.WaitReadyAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Redis.Dispose();
    }
}

public sealed class RedisEndToEndTests(RedisGatewayFixture fixture) : IClassFixture<RedisGatewayFixture>
{
    [Fact]
    public async Task Readiness_reports_redis_and_consent_api_writes_are_enforced()
    {
        using var ready = await fixture.Gateway.Admin.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("redis", (string?)JsonNode.Parse(await ready.Content.ReadAsStringAsync())!["store"]!["kind"]);

        var subject = GatewayFixture.NewSubject();
        Assert.False(await EmailTravels(subject));
        await fixture.Gateway.GrantAsync(subject, "marketing");
        Assert.True(await EmailTravels(subject), await LookupCounts());
        await fixture.Gateway.GrantAsync(subject, "marketing", "denied");
        Assert.False(await EmailTravels(subject));
    }

    /// <summary>For a failure message: which tier answered, so a fail-closed "store unavailable" is told from a stale read.</summary>
    private async Task<string> LookupCounts()
    {
        var metrics = await fixture.Gateway.MetricsAsync();
        return string.Join(", ", new[] { ("l1", "hit"), ("store", "found"), ("stale", "hit"), ("none", "unavailable") }
            .Select(t => $"{t.Item1}/{t.Item2}={MetricsText.Counter(metrics, "consent_lookups_total", ("tier", t.Item1), ("result", t.Item2))}"));
    }

    [Fact]
    public async Task Consent_written_straight_into_redis_following_the_readme_layout_is_enforced()
    {
        var subject = GatewayFixture.NewSubject();
        // Prime L1 with "no consent" so the test proves the change notification, not a cache miss.
        Assert.False(await EmailTravels(subject));

        await using var platform = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var db = platform.GetDatabase();
        var key = "consent:" + subject;
        await db.HashSetAsync(key,
        [
            new HashEntry("p:marketing", """{"status":"granted","expiresAt":null,"updatedAt":"2026-11-29T00:00:00Z","source":"platform"}"""),
        ]);
        await db.HashIncrementAsync(key, "v");
        await platform.GetSubscriber().PublishAsync(RedisChannel.Literal("consent:changes"), subject);

        await WaitUntil(() => EmailTravels(subject));

        // Withdrawal the same way.
        await db.HashSetAsync(key, "p:marketing", """{"status":"denied","expiresAt":null,"updatedAt":"2026-11-29T00:00:01Z","source":"platform"}""");
        await db.HashIncrementAsync(key, "v");
        await platform.GetSubscriber().PublishAsync(RedisChannel.Literal("consent:changes"), subject);
        await WaitUntil(async () => !await EmailTravels(subject));
    }

    private Task<bool> EmailTravels(string subject) => EmailTravels(fixture, subject);

    /// <summary>Whether a marketing POST for <paramref name="subject"/> reaches the upstream with its e-mail (the consent decision, seen on the wire).</summary>
    internal static async Task<bool> EmailTravels(GatewayFixture fixture, string subject)
    {
        fixture.Upstream.Reset();
        using var request = Request(HttpMethod.Post, "/customers/x", "marketing", subject);
        request.Content = Json("""{"email":"ann@example.com","tier":"gold"}""");
        using var response = await fixture.Gateway.Proxy.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(fixture.Upstream.OnlyRequest().BodyText)!.AsObject().ContainsKey("email");
    }

    private static async Task WaitUntil(Func<Task<bool>> condition)
    {
        // Notification latency is sub-millisecond; the generous bound only absorbs a loaded CI machine.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "change not enforced within 5 s");
            await Task.Delay(20);
        }
    }
}
