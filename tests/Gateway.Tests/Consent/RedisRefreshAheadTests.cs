using System.Diagnostics;
using ConsentGateway.Tests.Infrastructure;
using StackExchange.Redis;

namespace ConsentGateway.Tests.Consent;

/// <summary>A gateway on a real redis-server with a short TTL, so refresh-ahead shows within a few seconds.</summary>
public sealed class RefreshAheadRedisFixture : RedisGatewayFixture
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2);

    protected override IDictionary<string, string?>? SettingOverrides()
    {
        var settings = base.SettingOverrides()!;
        settings["Consent:CacheTtl"] = Ttl.ToString();
        settings["Consent:EagerRefreshThreshold"] = "0.5";
        return settings;
    }
}

public sealed class RedisRefreshAheadTests(RefreshAheadRedisFixture fixture) : IClassFixture<RefreshAheadRedisFixture>
{
    [Fact]
    public async Task A_subject_in_steady_use_is_read_again_before_expiry_and_no_request_misses_L1()
    {
        var subject = GatewayFixture.NewSubject();
        await GrantAndLetTheNotificationPassAsync(subject);
        Assert.True(await EmailTravels(subject)); // the one miss: L1 now holds the subject
        var before = await CountsAsync();

        // Two and a half TTLs of steady traffic: without refresh-ahead, the entry would expire twice and two
        // requests would each wait on Redis (two more L1 misses). With it, the window is half the TTL (1 s).
        var watch = Stopwatch.StartNew();
        var requests = 0;
        while (watch.Elapsed < RefreshAheadRedisFixture.Ttl * 2.5)
        {
            Assert.True(await EmailTravels(subject));
            requests++;
            await Task.Delay(25);
        }

        var after = await CountsAsync();
        Assert.Equal(0, after.Misses - before.Misses);
        Assert.True(after.RefreshesStarted - before.RefreshesStarted >= 2, $"refreshes started: {after.RefreshesStarted - before.RefreshesStarted}");
        Assert.Equal(requests, after.Hits - before.Hits);
    }

    [Fact]
    public async Task A_change_written_without_a_notification_is_picked_up_by_the_refresh()
    {
        var subject = GatewayFixture.NewSubject();
        await GrantAndLetTheNotificationPassAsync(subject);
        Assert.True(await EmailTravels(subject));

        // A platform that writes the README's layout but (wrongly) publishes nothing: only a read from Redis can see it.
        await using var platform = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var db = platform.GetDatabase();
        var key = "consent:" + subject;
        await db.HashSetAsync(key, "p:marketing", """{"status":"denied","expiresAt":null,"updatedAt":"2026-11-29T00:00:01Z","source":"platform"}""");
        await db.HashIncrementAsync(key, "v");

        var before = await CountsAsync();
        var watch = Stopwatch.StartNew();
        while (await EmailTravels(subject))
        {
            Assert.True(watch.Elapsed < RefreshAheadRedisFixture.Ttl + TimeSpan.FromSeconds(3), "the denial was not read within the TTL");
            await Task.Delay(25);
        }

        // Seen through a background refresh, not through a request that missed.
        var after = await CountsAsync();
        Assert.Equal(0, after.Misses - before.Misses);
        Assert.True(after.RefreshesStarted > before.RefreshesStarted);
    }

    /// <summary>
    /// The grant's change notification evicts the subject from L1 when it arrives; were it to arrive after the
    /// first request had cached the subject, the next request would miss for a reason other than expiry.
    /// </summary>
    private async Task GrantAndLetTheNotificationPassAsync(string subject)
    {
        await fixture.Gateway.GrantAsync(subject, "marketing");
        await Task.Delay(200);
    }

    private async Task<(double Hits, double Misses, double RefreshesStarted)> CountsAsync()
    {
        var metrics = await fixture.Gateway.MetricsAsync();
        return (
            MetricsText.Counter(metrics, "consent_lookups_total", ("tier", "l1"), ("result", "hit")),
            MetricsText.Counter(metrics, "consent_lookups_total", ("tier", "l1"), ("result", "miss")),
            MetricsText.Counter(metrics, "consent_lookups_total", ("tier", "refresh"), ("result", "started")));
    }

    private Task<bool> EmailTravels(string subject) => RedisEndToEndTests.EmailTravels(fixture, subject);
}
