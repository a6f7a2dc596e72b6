using ConsentGateway.Consent;
using ConsentGateway.Observability;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ConsentGateway.Tests.Consent;

public sealed class ConsentOptionsTests
{
    [Fact]
    public void Defaults_are_valid_and_documented_values()
    {
        var o = new ConsentOptions();
        Assert.True(new ConsentOptionsValidator().Validate(null, o).Succeeded);
        Assert.Equal(("consent:", "consent:changes"), (o.KeyPrefix, o.Channel));
        Assert.Equal(TimeSpan.FromSeconds(30), o.CacheTtl);
        Assert.Equal(TimeSpan.FromSeconds(2), o.NegativeCacheTtl);
        Assert.Equal(100_000, o.CacheSizeLimit);
        Assert.Equal(TimeSpan.FromMilliseconds(50), o.LookupTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.StoreTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), o.StaleGrantWindow);
        Assert.Equal(0.8, o.EagerRefreshThreshold);
    }

    [Theory]
    [InlineData("LookupTimeout", "00:00:00", "Consent:LookupTimeout must be > 0")]
    [InlineData("CacheTtl", "-00:00:01", "Consent:CacheTtl must be > 0")]
    [InlineData("NegativeCacheTtl", "-00:00:01", "Consent:NegativeCacheTtl must be >= 0")]
    [InlineData("StaleGrantWindow", "2.00:00:00", "Consent:StaleGrantWindow must be <= 1.00:00:00")]
    [InlineData("StoreTimeout", "00:00:00", "Consent:StoreTimeout must be > 0")]
    [InlineData("CacheSizeLimit", "0", "Consent:CacheSizeLimit must be > 0")]
    [InlineData("KeyPrefix", "", "Consent:KeyPrefix must not be empty")]
    [InlineData("Redis", "localhost,noSuchOption=1", "Consent:Redis is not a valid StackExchange.Redis configuration string")]
    [InlineData("EagerRefreshThreshold", "0", "Consent:EagerRefreshThreshold must be > 0 and <= 1")]
    [InlineData("EagerRefreshThreshold", "1.5", "Consent:EagerRefreshThreshold must be > 0 and <= 1")]
    [InlineData("EagerRefreshThreshold", "NaN", "Consent:EagerRefreshThreshold must be > 0 and <= 1")]
    public async Task Invalid_values_fail_start_up_naming_the_key(string key, string value, string message)
    {
        using var host = BuildHost(new() { ["Consent:" + key] = value });

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(ex.Failures, f => f.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Without_Redis_the_embedded_store_serves_every_role()
    {
        using var host = BuildHost([]);
        var sp = host.Services;

        Assert.IsType<ConsentCache>(sp.GetRequiredService<IConsentLookup>());
        Assert.IsType<EmbeddedConsentStore>(sp.GetRequiredService<IConsentStore>());
        Assert.Same(sp.GetRequiredService<IConsentStore>(), sp.GetRequiredService<IConsentStoreHealth>());
        Assert.Contains(sp.GetServices<IHostedService>(), s => s is EmbeddedConsentStore);
    }

    [Fact]
    public async Task With_Redis_the_redis_store_is_used_and_start_up_does_not_wait_for_it()
    {
        // Nothing listens on port 1: start-up must complete long before the 5 s connect timeout.
        using var host = BuildHost(new() { ["Consent:Redis"] = "127.0.0.1:1,connectTimeout=5000" });
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await host.StartAsync();
        watch.Stop();

        var health = host.Services.GetRequiredService<IConsentStoreHealth>();
        Assert.Equal("redis", health.Kind);
        Assert.IsType<RedisConsentStore>(host.Services.GetRequiredService<IConsentStore>());
        Assert.False(health.IsSubscribed);
        Assert.InRange(watch.ElapsedMilliseconds, 0, 2000);
        Assert.Equal(ConsentSource.Unavailable, (await host.Services.GetRequiredService<IConsentLookup>().LookupAsync("alice", default)).Source);
        await host.StopAsync();
    }

    [Fact]
    public void Redis_client_settings_are_hardened_but_explicit_values_kept()
    {
        var config = RedisConnection.BuildConfiguration("127.0.0.1:6379,syncTimeout=3000");
        Assert.False(config.AbortOnConnectFail);
        Assert.False(config.IncludeDetailInExceptions);
        Assert.Same(StackExchange.Redis.BacklogPolicy.FailFast, config.BacklogPolicy);
        Assert.Equal(2000, config.ConnectTimeout);
        Assert.Equal(3000, config.SyncTimeout);
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(new GatewayMetrics(Prometheus.Metrics.NewCustomRegistry()));
        builder.Services.AddConsent(builder.Configuration);
        return builder.Build();
    }
}
