using System.Diagnostics;
using ConsentGateway.Consent;
using ConsentGateway.Observability;
using ConsentGateway.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ConsentGateway.Tests.Consent;

/// <summary>
/// Tests that kill, pause or time real processes run alone: on a 2-core CI machine a parallel test
/// that blocks thread-pool threads delays timers by hundreds of milliseconds.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsentTimingDefinition
{
    public const string Name = "consent timing";
}

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
        Connection = new RedisConnection(wrapped, Hub, Metrics, TimeProvider.System, Log);
        Store = new RedisConsentStore(Connection, Hub, wrapped, TimeProvider.System, NullLogger<RedisConsentStore>.Instance);
        Cache = new ConsentCache(Store, Hub, wrapped, Metrics, TimeProvider.System, NullLogger<ConsentCache>.Instance);
    }

    public RedisServer Server { get; }

    /// <summary>The connection's log, quoted when a wait times out.</summary>
    public MemoryLogger Log { get; } = new();

    public ConsentOptions Options { get; }

    public ConsentInvalidation Hub { get; } = new();

    public GatewayMetrics Metrics { get; } = new(Prometheus.Metrics.NewCustomRegistry());

    public RedisConnection Connection { get; }

    public RedisConsentStore Store { get; }

    public ConsentCache Cache { get; }

    public IDatabase Raw => (_raw ??= ConnectionMultiplexer.Connect($"{Server.ConnectionString},allowAdmin=true")).GetDatabase();

    public ISubscriber RawSubscriber => Raw.Multiplexer.GetSubscriber();

    public double Invalidations => Metrics.Invalidations.Value;

    public static async Task<RedisHarness> StartAsync(Action<ConsentOptions>? configure = null, bool serverUp = true)
    {
        var server = new RedisServer();
        if (!serverUp)
        {
            server.Stop();
        }

        // Generous deadlines by default: these tests check behaviour, not speed, and CI machines are
        // busy. Tests about deadlines set their own.
        var options = new ConsentOptions
        {
            Redis = server.ConnectionString,
            LookupTimeout = TimeSpan.FromSeconds(1),
            StoreTimeout = TimeSpan.FromSeconds(2),
        };
        configure?.Invoke(options);
        var harness = new RedisHarness(server, options);
        await harness.Connection.StartAsync(CancellationToken.None);
        if (serverUp)
        {
            await harness.WaitSubscribedAsync();
        }

        return harness;
    }

    /// <summary>Subscription confirmed and a read answered (the interactive link can trail the subscriber by a moment).</summary>
    public async Task WaitSubscribedAsync()
    {
        await WaitUntilAsync(() => Connection.IsSubscribed && Store.IsAvailable, "subscription confirmed", describe: Describe);
        var watch = Stopwatch.StartNew();
        while (!(await Store.ReadAsync("probe", CancellationToken.None)).Succeeded)
        {
            if (watch.ElapsedMilliseconds > 10_000)
            {
                throw new TimeoutException("store reads still failing after the subscription came back. " + Describe());
            }

            await Task.Delay(10);
        }
    }

    public string Describe()
    {
        var mux = Connection.Multiplexer;
        var sub = mux?.GetSubscriber();
        var channel = RedisChannel.Literal(Options.Channel);
        return $"subscribed={Connection.IsSubscribed} available={Store.IsAvailable} endpoint={sub?.SubscribedEndpoint(channel)} " +
            $"channelConnected={sub?.IsConnected(channel)}{Environment.NewLine}{Log}";
    }

    public ValueTask<ConsentLookupResult> LookupAsync(string subject) => Cache.LookupAsync(subject, CancellationToken.None);

    public static async Task WaitUntilAsync(Func<bool> condition, string what, int timeoutMs = 10_000, Func<string>? describe = null)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.ElapsedMilliseconds > timeoutMs)
            {
                throw new TimeoutException($"not reached within {timeoutMs} ms: {what}. {describe?.Invoke()}");
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

/// <summary>Keeps log lines (with timestamps) so a failed wait can show what the connection went through.</summary>
internal sealed class MemoryLogger : ILogger<RedisConnection>
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {eventId.Id} {formatter(state, exception)}");

    public override string ToString() => string.Join(Environment.NewLine, _lines);
}
