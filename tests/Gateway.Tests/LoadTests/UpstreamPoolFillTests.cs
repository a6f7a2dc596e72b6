using System.Diagnostics;
using ConsentGateway.LoadTests.Bed;
using ConsentGateway.LoadTests.Engine;
using ConsentGateway.Tests.Infrastructure;

namespace ConsentGateway.Tests.LoadTests;

/// <summary>
/// Filling a proxy's upstream pool while the load generator opens its connections: the built plain
/// YARP binary in its own process, a real Kestrel upstream whose answers can be held, and the pause
/// the test bed puts on SampleApi, on a real process.
/// </summary>
public sealed class UpstreamPoolFillTests : IAsyncLifetime
{
    private readonly ResponseGate _gate = new();
    private RecordingUpstream _upstream = null!;

    public async Task InitializeAsync()
    {
        _upstream = await RecordingUpstream.StartAsync();
        _upstream.Respond(async (context, _) =>
        {
            await _gate.PassAsync();
            context.Response.StatusCode = 200;
        });
    }

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task Opening_with_the_upstream_held_leaves_the_proxy_one_upstream_connection_per_client_connection()
    {
        using var proxy = await PlainProxyProcess.StartAsync(_upstream.BaseAddress, bufferJson: false);
        var sockets = new UpstreamSockets(() => [("plainproxy", proxy.Id)], new Uri(_upstream.BaseAddress).Port);
        Assert.Single(sockets.TryRead()!.ByProcess["plainproxy"]); // the readiness probe's
        var fill = new UpstreamPoolFill(_gate.Hold, sockets);
        using var load = new LoadClient(16, TimeSpan.FromSeconds(10));
        long index = 0;

        await fill.OpenAsync("plainproxy", 16, () => load.OpenConnectionsAsync(_ => new HttpRequestMessage(HttpMethod.Get, new Uri(proxy.Address, "/x")), () => index++, CancellationToken.None), CancellationToken.None);

        Assert.Equal(1, _gate.Holds);
        Assert.Equal(16, load.ConnectionsOpened);
        Assert.Equal(16, sockets.TryRead()!.ByProcess["plainproxy"].Count);
        Assert.True(_upstream.Received.Count >= 16, $"{_upstream.Received.Count} requests reached the upstream");
    }

    [Fact]
    public async Task A_pool_that_never_fills_is_released_after_the_longest_hold_and_the_opening_ends()
    {
        using var proxy = await PlainProxyProcess.StartAsync(_upstream.BaseAddress, bufferJson: false);
        var sockets = new UpstreamSockets(() => [("plainproxy", proxy.Id)], new Uri(_upstream.BaseAddress).Port);
        var fill = new UpstreamPoolFill(_gate.Hold, sockets);
        using var load = new LoadClient(4, TimeSpan.FromSeconds(10));
        long index = 0;
        var held = Stopwatch.StartNew();

        // Asks for more connections than four client connections can make the proxy open.
        await fill.OpenAsync("plainproxy", 64, () => load.OpenConnectionsAsync(_ => new HttpRequestMessage(HttpMethod.Get, new Uri(proxy.Address, "/x")), () => index++, CancellationToken.None), CancellationToken.None);

        Assert.True(held.Elapsed >= UpstreamPoolFill.MaxHold, $"released after {held.Elapsed}");
        Assert.Equal(4, load.ConnectionsOpened);
        Assert.False(_gate.Holding);
    }

    [Fact]
    public async Task The_pause_stops_a_real_process_until_disposed()
    {
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            using (var pause = ProcessPause.TryStop(sleeper.Id))
            {
                Assert.NotNull(pause);
                Assert.Equal('T', await StateAsync(sleeper.Id, until: 'T'));
            }

            Assert.Equal('S', await StateAsync(sleeper.Id, until: 'S'));
        }
        finally
        {
            sleeper.Kill();
        }
    }

    /// <summary>The process's state letter from /proc/[pid]/stat, polled until it is <paramref name="until"/> or 5 s pass (a signal is delivered asynchronously).</summary>
    private static async Task<char> StateAsync(int pid, char until)
    {
        char state = '?';
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(5); await Task.Delay(10))
        {
            var stat = await File.ReadAllTextAsync($"/proc/{pid}/stat");
            state = stat[stat.LastIndexOf(')') + 2];
            if (state == until)
            {
                break;
            }
        }

        return state;
    }

    /// <summary>Holds the upstream's answers while a hold is open, as the paused SampleApi does in the test bed.</summary>
    private sealed class ResponseGate
    {
        private volatile TaskCompletionSource? _closed;

        public int Holds { get; private set; }

        public bool Holding => _closed is not null;

        public Task PassAsync() => _closed?.Task ?? Task.CompletedTask;

        public IDisposable? Hold()
        {
            Holds++;
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _closed = closed;
            return new Release(() =>
            {
                _closed = null;
                closed.TrySetResult();
            });
        }

        private sealed class Release(Action release) : IDisposable
        {
            public void Dispose() => release();
        }
    }
}
