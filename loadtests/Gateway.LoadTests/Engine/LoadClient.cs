using System.Net;
using System.Net.Sockets;

namespace ConsentGateway.LoadTests.Engine;

/// <summary>
/// One scenario's HTTP client. Its connections are counted, and opened before anything is measured
/// (as wrk and hey open theirs), so that a round's latency is the target's answering, not the
/// target accepting connections the load generator only now asks for. Session 17 found the proxies'
/// worst rounds were exactly that: a hiccup of the shared machine queued requests, the client then
/// opened new connections up to its limit, and each proxy accepted them, opened upstream ones to
/// match and JIT-compiled that code, all inside the round. Connections are kept for the whole run
/// (no idle or lifetime limit here), so the count opened during a measured round is normally zero
/// and the report shows it when it is not.
/// </summary>
internal sealed class LoadClient : IDisposable
{
    private readonly SocketsHttpHandler _handler;
    private long _opened;

    public LoadClient(int maxConnections, TimeSpan requestTimeout)
    {
        MaxConnections = Math.Max(1, maxConnections);
        _handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = MaxConnections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectCallback = ConnectAsync,
        };
        Client = new HttpClient(_handler, disposeHandler: false) { Timeout = requestTimeout };
    }

    public HttpClient Client { get; }

    public int MaxConnections { get; }

    /// <summary>Connections this client has opened so far.</summary>
    public long ConnectionsOpened => Volatile.Read(ref _opened);

    /// <summary>
    /// Opens the client's connections up to its limit: waves of <see cref="MaxConnections"/> concurrent
    /// requests (SocketsHttpHandler starts a connection for every request that finds none idle and keeps
    /// it when done), until the limit is reached or a few waves have not got there. Their answers are
    /// not recorded. Returns the connections now open (opened so far; none is closed before the run ends).
    /// </summary>
    public async Task<long> OpenConnectionsAsync(Func<long, HttpRequestMessage> createRequest, Func<long> nextIndex, CancellationToken ct)
    {
        for (var wave = 0; wave < 5 && ConnectionsOpened < MaxConnections; wave++)
        {
            var sends = new Task[MaxConnections];
            for (var k = 0; k < sends.Length; k++)
            {
                var request = createRequest(nextIndex());
                sends[k] = SendAndDrainAsync(request, ct);
            }

            await Task.WhenAll(sends);
        }

        return ConnectionsOpened;
    }

    /// <summary>One opening request; its outcome is the warm-up's and the measured phase's to count, not this.</summary>
    private async Task SendAndDrainAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        {
            try
            {
                using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>What SocketsHttpHandler does itself (a dual-mode TCP socket, Nagle off), counted.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, ct);
            Interlocked.Increment(ref _opened);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        _handler.Dispose();
    }
}
