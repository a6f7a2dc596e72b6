using System.Diagnostics;
using ConsentGateway.Consent;
using ConsentGateway.Observability;
using ConsentGateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ConsentGateway.Tests.Consent;

/// <summary>
/// A private redis-server plus the gateway's Redis consent tier wired as in production (connection,
/// store, cache sharing one invalidation hub), and a plain client playing the external consent platform.
/// </summary>
internal sealed class RedisHarness : IAsyncDisposable
{
    private ConnectionMultiplexer? _raw;

    private RedisHarness(RedisServer server, ConsentOptions options)
    {
        Server = server;
        Options = options;
        var wrapped = Microsoft.Extensions.Options.Options.Create(options);
        Connection = new RedisConnection(wrapped, Hub, Metrics, TimeProvider.System, NullLogger<RedisConnection>.Instance);
        Store = new RedisConsentStore(Connection, Hub, wrapped, TimeProvider.System, NullLogger<RedisConsentStore>.Instance);
        Cache = new ConsentCache(Store, Hub, wrapped, Metrics, TimeProvider.System, NullLogger<ConsentCache>.Instance);
    }

    public RedisServer Server { get; }

    public ConsentOptions Options { get; }

    public ConsentInvalidation Hub { get; } = new();

    public GatewayMetrics Metrics { get; } = new(Prometheus.Metrics.NewCustomRegistry());

    public RedisConnection Connection { get; }

    public RedisConsentStore Store { get; }

    public ConsentCache Cache { get; }

    public IDatabase Raw => (_raw ??= ConnectionMultiplexer.Connect($"{Server.ConnectionString},allowAdmin=true,abortConnect=false")).GetDatabase();

    public ISubscriber RawSubscriber => Raw.Multiplexer.GetSubscriber();

    public double Invalidations => Metrics.Invalidations.Value;

    public static async Task<RedisHarness> StartAsync(Action<ConsentOptions>? configure = null, bool serverUp = true)
    {
        var server = new RedisServer();
        if (!serverUp)
        {
            server.Stop();
        }

        var options = new ConsentOptions { Redis = server.ConnectionString };
        configure?.Invoke(options);
        var harness = new RedisHarness(server, options);
        await harness.Connection.StartAsync(CancellationToken.None);
        if (serverUp)
        {
            await harness.WaitSubscribedAsync();
        }

        return harness;
    }

    public Task WaitSubscribedAsync() => WaitUntilAsync(() => Connection.IsSubscribed && Store.IsAvailable, "subscription confirmed");

    public ValueTask<ConsentLookupResult> LookupAsync(string subject) => Cache.LookupAsync(subject, CancellationToken.None);

    public static async Task WaitUntilAsync(Func<bool> condition, string what, int timeoutMs = 10_000)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.ElapsedMilliseconds > timeoutMs)
            {
                throw new TimeoutException($"not reached within {timeoutMs} ms: {what}");
            }

            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Server.IsRunning)
        {
            Server.Resume(); // a paused server would stall the clients' shutdown
        }

        Cache.Dispose();
        await Connection.StopAsync(CancellationToken.None);
        await Connection.DisposeAsync();
        if (_raw is not null)
        {
            await _raw.DisposeAsync();
        }

        Server.Dispose();
    }
}
