using ConsentGateway.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ConsentGateway.Consent;

/// <summary>
/// The process's one Redis multiplexer and its change subscription. Connects in the background so
/// start-up never waits on Redis, and keeps <see cref="ConsentInvalidation"/> told whether change
/// notifications are flowing: the cache may trust L1 only while they are.
/// </summary>
internal sealed partial class RedisConnection : IHostedService, IAsyncDisposable, IDisposable
{
    // While unsubscribed the monitor polls quickly so L1 is trusted again soon after the library
    // resubscribes; while subscribed it is only a backstop for a missed failure event.
    private static readonly TimeSpan RecoveryPoll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan HealthyPoll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CreateRetry = TimeSpan.FromSeconds(1);

    // The library re-sends SUBSCRIBE once when the subscription link comes back; if the server refuses
    // it or it is lost in a race (StackExchange.Redis #1110), nothing sends it again and the channel
    // stays unsubscribed on a healthy link for good. Measured on CI: a restarted redis-server left a
    // connected, never-confirmed channel. So the monitor re-subscribes after this long connected
    // without confirmation, and again at this interval until the server confirms.
    private static readonly TimeSpan ResubscribeAfter = TimeSpan.FromSeconds(2);

    private readonly ConsentOptions _options;
    private readonly ConsentInvalidation _hub;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _stateGate = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Action<RedisChannel, RedisValue> _onMessage;
    private ConnectionMultiplexer? _multiplexer;
    private Task _background = Task.CompletedTask;
    private bool _subscribed;
    private long _lossEpoch;
    private volatile bool _resp3;

    public RedisConnection(IOptions<ConsentOptions> options, ConsentInvalidation hub, GatewayMetrics metrics, TimeProvider time, ILogger<RedisConnection> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _hub = hub;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        Channel = RedisChannel.Literal(_options.Channel);
        _onMessage = OnMessage;

        // Nothing is subscribed yet: nothing the cache learns before the subscription is confirmed may be trusted.
        _hub.SubscriptionLost();
        _metrics.StoreUp.Set(0);
    }

    public RedisChannel Channel { get; }

    /// <summary>Null until the background connect has created it.</summary>
    public ConnectionMultiplexer? Multiplexer => Volatile.Read(ref _multiplexer);

    public bool IsConnected => Multiplexer?.IsConnected == true;

    public bool IsSubscribed
    {
        get
        {
            lock (_stateGate)
            {
                return _subscribed;
            }
        }
    }

    /// <summary>Client settings: what the configuration string says, hardened where a consent gateway needs it.</summary>
    public static ConfigurationOptions BuildConfiguration(string configuration)
    {
        var config = ConfigurationOptions.Parse(configuration);
        config.AbortOnConnectFail = false;          // start (and keep retrying) with Redis down
        config.IncludeDetailInExceptions = false;   // keys carry subject ids
        config.BacklogPolicy = BacklogPolicy.FailFast; // a queued command would only outlive its caller's deadline
        config.ReconnectRetryPolicy = new LinearRetry(1000);
        config.ClientName ??= "consent-gateway";

        // Keep what the operator set explicitly; otherwise seconds, not the library's 5 s defaults.
        if (!Mentions(configuration, "connectTimeout"))
        {
            config.ConnectTimeout = 2000;
        }

        if (!Mentions(configuration, "syncTimeout"))
        {
            config.SyncTimeout = 1000;
        }

        if (!Mentions(configuration, "asyncTimeout"))
        {
            config.AsyncTimeout = 1000;
        }

        return config;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        ConsentLog.RedisConnecting(_logger, _options.Channel);
        _background = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _background.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Shutdown: nothing left to do.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        try
        {
            await _background.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected on shutdown.
        }

        var mux = Detach();
        if (mux is not null)
        {
            await mux.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <summary>For synchronous container disposal; the background loop ends on its own once cancelled.</summary>
    public void Dispose()
    {
        if (!_stopping.IsCancellationRequested)
        {
            _stopping.Cancel();
        }

        Detach()?.Dispose();
    }

    private ConnectionMultiplexer? Detach()
    {
        var mux = Interlocked.Exchange(ref _multiplexer, null);
        if (mux is not null)
        {
            mux.ConnectionFailed -= OnConnectionFailed;
            mux.ConnectionRestored -= OnConnectionRestored;
            mux.InternalError -= OnInternalError;
        }

        return mux;
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var mux = await CreateAsync(stopping).ConfigureAwait(false);
        try
        {
            // The library records the handler before it talks to the server, and resubscribes it on
            // every reconnect; so one call suffices even if Redis is down right now.
            await mux.GetSubscriber().SubscribeAsync(Channel, _onMessage).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            ConsentLog.SubscribeFailed(_logger, ex);
        }

        await MonitorAsync(mux, stopping).ConfigureAwait(false);
    }

    private async Task<ConnectionMultiplexer> CreateAsync(CancellationToken stopping)
    {
        while (true)
        {
            stopping.ThrowIfCancellationRequested();
            try
            {
                var config = BuildConfiguration(_options.Redis ?? "");
                _resp3 = config.Protocol == RedisProtocol.Resp3;
                var mux = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
                mux.ConnectionFailed += OnConnectionFailed;
                mux.ConnectionRestored += OnConnectionRestored;
                mux.InternalError += OnInternalError;
                if (stopping.IsCancellationRequested)
                {
                    await mux.DisposeAsync().ConfigureAwait(false);
                    stopping.ThrowIfCancellationRequested();
                }

                Volatile.Write(ref _multiplexer, mux);
                if (stopping.IsCancellationRequested)
                {
                    Detach()?.Dispose(); // Dispose ran between the check above and the write
                    stopping.ThrowIfCancellationRequested();
                }

                ConsentLog.RedisConnectionCreated(_logger, mux.IsConnected);
                return mux;
            }
            catch (Exception ex) when (ex is RedisException or ArgumentException or System.Net.Sockets.SocketException)
            {
                // With AbortOnConnectFail=false this is rare (e.g. an unresolvable host name).
                ConsentLog.RedisConnectionCreateFailed(_logger, ex);
                await Task.Delay(CreateRetry, _time, stopping).ConfigureAwait(false);
            }
        }
    }

    private void UpdateUpGauge() => _metrics.StoreUp.Set(IsConnected && IsSubscribed ? 1 : 0);

    // Over RESP3 the library carries pub/sub on the interactive connection.
    private bool CarriesSubscriptions(ConnectionType type) =>
        type == ConnectionType.Subscription || (type == ConnectionType.Interactive && _resp3);

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        if (message.IsNullOrEmpty)
        {
            ConsentLog.EmptyNotification(_logger);
            return;
        }

        _hub.Invalidate((string)message!);
        _metrics.Invalidations.Inc();
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        ConsentLog.RedisConnectionFailed(_logger, e.ConnectionType, e.EndPoint, e.FailureType);
        if (CarriesSubscriptions(e.ConnectionType))
        {
            MarkLost(e.FailureType.ToString());
        }

        UpdateUpGauge();
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        // Not trusted yet: the monitor waits for the server to confirm the re-SUBSCRIBE.
        ConsentLog.RedisConnectionRestored(_logger, e.ConnectionType, e.EndPoint);
        UpdateUpGauge();
    }

    private void OnInternalError(object? sender, InternalErrorEventArgs e) =>
        ConsentLog.RedisInternalError(_logger, e);

    private static bool Mentions(string configuration, string key) =>
        configuration.Contains(key + "=", StringComparison.OrdinalIgnoreCase);
}
