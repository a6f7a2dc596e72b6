using System.Diagnostics;
using System.Globalization;
using ConsentGateway.Testing;
using ConsentGateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using StackExchange.Redis;

namespace ConsentGateway.Tests.Consent;

/// <summary>
/// Multi-instance tests stop and restart redis-server and measure notification latency: they run alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MultiInstanceDefinition
{
    public const string Name = "consent multi-instance";
}

/// <summary>What one proxied request showed: when it was sent, its status, and whether the upstream saw the field.</summary>
internal readonly record struct Probe(long SentAt, int Status, bool EmailForwarded);

/// <summary>
/// Three real gateway instances (production composition, each with its own L1) in this process,
/// against one real redis-server and one recording upstream; plus a plain StackExchange.Redis
/// client playing the consent platform.
/// </summary>
internal sealed class MultiInstanceCluster : IAsyncDisposable
{
    /// <summary>Response header by which the upstream tells the caller whether the field reached it.</summary>
    private const string SawEmailHeader = "X-Upstream-Saw-Email";

    private ConnectionMultiplexer? _platform;

    private MultiInstanceCluster(RedisServer redis, RecordingUpstream upstream, GatewayHost[] gateways)
    {
        Redis = redis;
        Upstream = upstream;
        Gateways = gateways;
    }

    public RedisServer Redis { get; }

    public RecordingUpstream Upstream { get; }

    public IReadOnlyList<GatewayHost> Gateways { get; }

    public GatewayHost A => Gateways[0];

    public static string Name(int index) => ((char)('A' + index)).ToString();

    public static async Task<MultiInstanceCluster> StartAsync(IDictionary<string, string?>? overrides = null)
    {
        var redis = new RedisServer();
        RecordingUpstream? upstream = null;
        var gateways = new List<GatewayHost>();
        try
        {
            upstream = await RecordingUpstream.StartAsync();

            // The field check is done where it matters, at the upstream: it reports what it received in
            // a response header (headers are not subject to the body rules), so concurrent requests
            // through three instances need no correlation of the upstream's recording.
            upstream.Respond(static async (ctx, received) =>
            {
                var saw = received.BodyText.Contains("\"email\"", StringComparison.Ordinal);
                ctx.Response.Headers[SawEmailHeader] = saw ? "1" : "0";
                ctx.Response.ContentType = "application/json";
                ctx.Response.ContentLength = 2;
                await ctx.Response.Body.WriteAsync("{}"u8.ToArray());
            });

            var settings = new Dictionary<string, string?> { ["Consent:Redis"] = redis.ConnectionString };
            foreach (var (k, v) in overrides ?? new Dictionary<string, string?>())
            {
                settings[k] = v;
            }

            for (var i = 0; i < 3; i++)
            {
                gateways.Add(await GatewayHost.StartAsync(TestConfig.Create(upstream.BaseAddress), settings));
            }

            var cluster = new MultiInstanceCluster(redis, upstream, [.. gateways]);
            await cluster.WaitAllReadyAsync();
            return cluster;
        }
        catch
        {
            foreach (var g in gateways)
            {
                await g.DisposeAsync();
            }

            if (upstream is not null)
            {
                await upstream.DisposeAsync();
            }

            redis.Dispose();
            throw;
        }
    }

    /// <summary>A plain client, as a consent platform would use (created on first use, recreated after a restart).</summary>
    public async Task<ConnectionMultiplexer> PlatformAsync()
    {
        if (_platform is { IsConnected: true } p)
        {
            return p;
        }

        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }

        _platform = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString + ",allowAdmin=true");
        return _platform;
    }

    /// <summary>What a consent platform writes, exactly as the README's "Redis layout" says: HSET, HINCRBY v, PUBLISH.</summary>
    public async Task WriteStraightIntoRedisAsync(string subject, string status, bool publish = true)
    {
        var platform = await PlatformAsync();
        var db = platform.GetDatabase();
        var key = "consent:" + subject;
        var now = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        await db.HashSetAsync(key, "p:marketing", $$"""{"status":"{{status}}","expiresAt":null,"updatedAt":"{{now}}","source":"platform"}""");
        await db.HashIncrementAsync(key, "v");
        if (publish)
        {
            await platform.GetSubscriber().PublishAsync(RedisChannel.Literal("consent:changes"), subject);
        }
    }

    /// <summary>One request through an instance: POST /customers/x with the e-mail field, purpose marketing.</summary>
    public static async Task<Probe> ProbeAsync(GatewayHost gateway, string subject, CancellationToken cancellationToken = default)
    {
        using var request = GatewayHost.Request(HttpMethod.Post, "/customers/x", "marketing", subject);
        request.Content = GatewayHost.Json("""{"email":"ann@example.com","tier":"gold"}""");
        var sentAt = Stopwatch.GetTimestamp();
        using var response = await gateway.Proxy.SendAsync(request, cancellationToken);
        var saw = response.Headers.TryGetValues(SawEmailHeader, out var values) && values.Contains("1");
        return new Probe(sentAt, (int)response.StatusCode, saw);
    }

    public static async Task<bool> EmailTravelsAsync(GatewayHost gateway, string subject)
    {
        var probe = await ProbeAsync(gateway, subject);
        Assert.True(probe.Status == StatusCodes.Status200OK, $"proxied request answered {probe.Status}");
        return probe.EmailForwarded;
    }

    public async Task WaitAllReadyAsync(TimeSpan? timeout = null)
    {
        foreach (var gateway in Gateways)
        {
            await gateway.WaitReadyAsync(timeout ?? TimeSpan.FromSeconds(15));
        }
    }

    /// <summary>The value of an unlabelled gauge in an instance's Prometheus text.</summary>
    public static async Task<double?> GaugeAsync(GatewayHost gateway, string name)
    {
        var text = await gateway.MetricsAsync();
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(name.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    public static double Milliseconds(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    public async ValueTask DisposeAsync()
    {
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }

        foreach (var gateway in Gateways)
        {
            await gateway.DisposeAsync();
        }

        await Upstream.DisposeAsync();
        Redis.Dispose();
    }
}
