using System.Diagnostics;

namespace ConsentGateway.LoadTests.Engine;

/// <summary>
/// Opens a scenario's client connections with the upstream held (no answers), so that the proxy under
/// test forwards every opening request on an upstream connection of its own and ends with a pool as
/// large as the load's concurrency, as a proxy in steady use has. Without it a proxy's pool is as
/// large as the overlap the opening happened to reach (35 to 55 of 64 in one run), and a proxy that
/// grows its pool inside a measured round times its connect path and the JIT's first compilation of
/// it there; the proxies of one comparison started with different pools.
/// </summary>
/// <param name="holdUpstream">Stops the upstream until disposed; null when it cannot.</param>
/// <param name="sockets">Counts the proxy's upstream connections, to release the hold as soon as the pool is full.</param>
internal sealed class UpstreamPoolFill(Func<IDisposable?> holdUpstream, UpstreamSockets sockets)
{
    /// <summary>Longest hold: a proxy that cannot fill its pool (one that fails closed) is not waited on beyond it.</summary>
    public static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(3);

    /// <summary>Runs <paramref name="open"/> with the upstream held until <paramref name="proxy"/> holds <paramref name="connections"/> upstream connections, the opening ends, or <see cref="MaxHold"/>.</summary>
    public async Task OpenAsync(string proxy, int connections, Func<Task> open, CancellationToken ct)
    {
        using (var hold = holdUpstream())
        {
            var opening = open();
            if (hold is null)
            {
                await opening;
                return;
            }

            var held = Stopwatch.StartNew();
            while (!opening.IsCompleted && held.Elapsed < MaxHold && Held(proxy) < connections)
            {
                await Task.Delay(10, ct);
            }

            hold.Dispose();
            await opening;
        }
    }

    private int Held(string proxy) => sockets.TryRead()?.ByProcess.GetValueOrDefault(proxy)?.Count ?? 0;
}
