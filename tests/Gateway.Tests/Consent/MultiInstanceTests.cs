using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using ConsentGateway.Consent;
using ConsentGateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit.Abstractions;
using static ConsentGateway.Tests.Consent.MultiInstanceCluster;

namespace ConsentGateway.Tests.Consent;

/// <summary>
/// SPEC §5 across instances: three gateways (each with its own L1) on one real redis-server. A change
/// made through any instance, or straight into Redis, is enforced by all; store loss fails closed within
/// the documented stale window; a lost subscription never lets a missed change be served.
/// </summary>
[Collection(MultiInstanceDefinition.Name)]
public sealed class MultiInstanceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan NotificationBound = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PollStep = TimeSpan.FromMilliseconds(5);

    [Fact]
    public async Task Withdrawal_through_one_instance_is_enforced_by_every_instance_on_its_next_request()
    {
        await using var cluster = await StartAsync();
        var subject = GatewayFixture.NewSubject();

        await cluster.A.GrantAsync(subject, "marketing");
        foreach (var (gateway, i) in cluster.Gateways.Select((g, i) => (g, i)))
        {
            Assert.True(await EmailTravelsAsync(gateway, subject), $"instance {Name(i)} did not forward the field after the grant");
            Assert.True(await EmailTravelsAsync(gateway, subject), $"instance {Name(i)} did not forward the field from its warm L1");
        }

        using (var withdraw = await cluster.A.Admin.PutAsync($"v1/subjects/{subject}/consents/marketing", GatewayHost.Json("""{"status":"denied","source":"test"}""")))
        {
            withdraw.EnsureSuccessStatusCode();
        }

        var acknowledged = Stopwatch.GetTimestamp();
        var results = await Task.WhenAll(cluster.Gateways.Select(g => PollUntilWithheldAsync(g, subject, acknowledged)));
        for (var i = 0; i < results.Length; i++)
        {
            var (latency, stillForwarded) = results[i];
            output.WriteLine($"instance {Name(i)}: first withholding response {latency:F3} ms after A acknowledged; {stillForwarded} request(s) still forwarded before it");
        }

        for (var i = 0; i < results.Length; i++)
        {
            Assert.True(results[i].LatencyMs <= NotificationBound.TotalMilliseconds,
                $"instance {Name(i)} still forwarded the field {results[i].LatencyMs:F0} ms after the withdrawal was acknowledged");
        }

        // The instance that made the write must not depend on its own notification.
        Assert.Equal(0, results[0].StillForwarded);
    }

    [Fact]
    public async Task A_write_straight_into_redis_following_the_readme_layout_is_seen_by_all_instances()
    {
        await using var cluster = await StartAsync();
        var subject = GatewayFixture.NewSubject();

        // Prime every L1 with "no record" (trusted 2 s), so seeing the grant within 1 s proves the notification.
        foreach (var gateway in cluster.Gateways)
        {
            Assert.False(await EmailTravelsAsync(gateway, subject));
        }

        await cluster.WriteStraightIntoRedisAsync(subject, "granted");
        var written = Stopwatch.GetTimestamp();
        var granted = await Task.WhenAll(cluster.Gateways.Select(g => PollUntilAsync(g, subject, written, wantForwarded: true)));

        await cluster.WriteStraightIntoRedisAsync(subject, "denied");
        written = Stopwatch.GetTimestamp();
        var denied = await Task.WhenAll(cluster.Gateways.Select(g => PollUntilAsync(g, subject, written, wantForwarded: false)));

        for (var i = 0; i < 3; i++)
        {
            output.WriteLine($"instance {Name(i)}: grant seen after {granted[i]:F3} ms, denial after {denied[i]:F3} ms");
            Assert.True(granted[i] <= NotificationBound.TotalMilliseconds, $"instance {Name(i)} did not see the platform's grant within 1 s");
            Assert.True(denied[i] <= NotificationBound.TotalMilliseconds, $"instance {Name(i)} did not see the platform's denial within 1 s");
        }
    }

    [Fact]
    public async Task Redis_stopped_under_traffic_fails_closed_within_the_stale_window_and_recovers_without_restart()
    {
        var ttl = TimeSpan.FromSeconds(1);
        var window = TimeSpan.FromSeconds(1);
        await using var cluster = await StartAsync(new Dictionary<string, string?>
        {
            ["Consent:CacheTtl"] = "00:00:01",
            ["Consent:StaleGrantWindow"] = "00:00:01",
        });
        var granted = GatewayFixture.NewSubject();
        var never = GatewayFixture.NewSubject();
        await cluster.A.GrantAsync(granted, "marketing");
        foreach (var gateway in cluster.Gateways)
        {
            Assert.True(await EmailTravelsAsync(gateway, granted));
            Assert.False(await EmailTravelsAsync(gateway, never));
        }

        // Two request loops per instance, alternating the granted and the never-granted subject.
        var probes = new ConcurrentBag<(int Instance, bool Granted, Probe Probe)>();
        using var stop = new CancellationTokenSource();
        var loops = Enumerable.Range(0, 6).Select(n => Task.Run(async () =>
        {
            var instance = n % 3;
            var gateway = cluster.Gateways[instance];
            for (var k = 0; !stop.IsCancellationRequested; k++)
            {
                var isGranted = (k + n) % 2 == 0;
                probes.Add((instance, isGranted, await ProbeAsync(gateway, isGranted ? granted : never)));
            }
        })).ToArray();

        await Task.Delay(300);
        cluster.Redis.Stop();
        var stoppedAt = Stopwatch.GetTimestamp();
        await Task.Delay(ttl + window + TimeSpan.FromSeconds(1));
        await stop.CancelAsync();
        await Task.WhenAll(loops);

        // Every successful read happened before the server died, so a grant may be served stale only
        // by a request sent before stoppedAt + CacheTtl + StaleGrantWindow (250 ms slack: the gateway
        // stamps a read when its continuation runs, which on a loaded machine can trail the server's reply).
        var staleLimitMs = (ttl + window).TotalMilliseconds + 250;
        var all = probes.ToArray();
        output.WriteLine($"{all.Length} requests; window after stop = {(ttl + window).TotalMilliseconds} ms");
        Assert.DoesNotContain(all, p => p.Probe.Status >= 500);
        Assert.All(all, p => Assert.Equal(200, p.Probe.Status));
        Assert.DoesNotContain(all, p => !p.Granted && p.Probe.EmailForwarded);
        for (var i = 0; i < 3; i++)
        {
            var mine = all.Where(p => p.Instance == i && p.Granted).Select(p => p.Probe).OrderBy(p => p.SentAt).ToArray();
            var after = mine.Where(p => p.SentAt > stoppedAt).ToArray();
            var lastForward = after.Where(p => p.EmailForwarded).Select(p => Milliseconds(stoppedAt, p.SentAt)).DefaultIfEmpty(double.NaN).Max();
            var firstWithheld = after.Where(p => !p.EmailForwarded).Select(p => Milliseconds(stoppedAt, p.SentAt)).DefaultIfEmpty(double.NaN).Min();
            output.WriteLine($"instance {Name(i)}: {mine.Length - after.Length} granted-subject requests before the stop ({mine.Count(p => p.SentAt <= stoppedAt && p.EmailForwarded)} forwarded), {after.Length} after; "
                + $"last forward {lastForward:F0} ms after the stop, first withheld {firstWithheld:F0} ms after");
            Assert.Contains(mine, p => p.SentAt <= stoppedAt && p.EmailForwarded);
            Assert.DoesNotContain(after, p => p.EmailForwarded && Milliseconds(stoppedAt, p.SentAt) > staleLimitMs);
            Assert.Contains(after, p => Milliseconds(stoppedAt, p.SentAt) > staleLimitMs); // the window's end was exercised
        }

        // Redis comes back empty on the same port: every instance recovers on its own.
        cluster.Redis.Start();
        await cluster.WaitAllReadyAsync(TimeSpan.FromSeconds(15));
        foreach (var (gateway, i) in cluster.Gateways.Select((g, i) => (g, i)))
        {
            Assert.Equal(1, await GaugeAsync(gateway, "consent_store_up"));
            using var ready = await gateway.Admin.GetAsync("readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.True((bool)JsonNode.Parse(await ready.Content.ReadAsStringAsync())!["store"]!["subscribed"]!, $"instance {Name(i)} not subscribed");
            Assert.False(await EmailTravelsAsync(gateway, granted), $"instance {Name(i)} forwarded a grant the restarted Redis no longer holds");
        }

        await cluster.A.GrantAsync(granted, "marketing");
        var regranted = Stopwatch.GetTimestamp();
        var seen = await Task.WhenAll(cluster.Gateways.Select(g => PollUntilAsync(g, granted, regranted, wantForwarded: true)));
        for (var i = 0; i < 3; i++)
        {
            output.WriteLine($"instance {Name(i)}: re-grant forwarded after {seen[i]:F1} ms");
            Assert.True(seen[i] <= NotificationBound.TotalMilliseconds, $"instance {Name(i)} did not forward the re-granted field");
            Assert.False(await EmailTravelsAsync(cluster.Gateways[i], never));
        }
    }

    [Fact]
    public async Task Withdrawal_published_while_the_subscriber_is_cut_off_is_enforced_after_reconnect_and_within_the_ttl()
    {
        var ttl = TimeSpan.FromSeconds(5);
        await using var cluster = await StartAsync(new Dictionary<string, string?> { ["Consent:CacheTtl"] = "00:00:05" });
        var subject = GatewayFixture.NewSubject();
        await cluster.A.GrantAsync(subject, "marketing");
        foreach (var gateway in cluster.Gateways)
        {
            Assert.True(await EmailTravelsAsync(gateway, subject));
            Assert.True(await EmailTravelsAsync(gateway, subject)); // served from a warm L1
        }

        var platform = await cluster.PlatformAsync();
        var server = platform.GetServer(platform.GetEndPoints()[0]);

        // Watch every instance from before the cut, so the loss and the return of its subscription are
        // seen however quickly the client library reconnects.
        // The instant an instance trusts its L1 again is observed in-process (its invalidation hub bumps
        // the generation when the subscription is confirmed back): /readyz polling can miss a short gap.
        var clock = new WatchClock();
        var restores = cluster.Gateways.Select(g => new RestoreWatch(g.Services.GetRequiredService<ConsentInvalidation>(), clock)).ToArray();
        var watching = cluster.Gateways.Select((g, i) => Task.Run(() => WatchReconnectAsync(g, subject, clock, restores[i], ttl + TimeSpan.FromSeconds(2)))).ToArray();
        await Task.Delay(50);
        clock.KilledAt = Stopwatch.GetTimestamp();
        var killed = await server.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        await cluster.WriteStraightIntoRedisAsync(subject, "denied"); // its PUBLISH reaches no cut-off instance
        clock.WrittenAt = Stopwatch.GetTimestamp();
        output.WriteLine($"CLIENT KILL TYPE pubsub closed {killed} connection(s)");
        Assert.True((long)killed >= 3, "expected every instance's subscriber connection to be killed");

        var results = await Task.WhenAll(watching);
        foreach (var restore in restores)
        {
            restore.Dispose();
        }
        for (var i = 0; i < 3; i++)
        {
            var r = results[i];
            output.WriteLine($"instance {Name(i)}: /readyz degraded first seen {r.LostMs:F1} ms, L1 trusted again (generation bump) {r.RestoredMs:F1} ms, first withheld {r.FirstWithheldMs:F1} ms after the write; "
                + $"{r.ForwardedAfterWrite} forwarded after the write, {r.ForwardedAfterRestore} after the subscription was back");
        }

        for (var i = 0; i < 3; i++)
        {
            var r = results[i];
            Assert.True(r.FirstWithheldMs < ttl.TotalMilliseconds, $"instance {Name(i)} still forwarded a withdrawn grant past the TTL");
            Assert.False(double.IsNaN(r.RestoredMs), $"instance {Name(i)} never lost and regained its subscription within the watch");
            Assert.Equal(0, r.ForwardedAfterRestore);
        }

        await cluster.WaitAllReadyAsync();
        foreach (var gateway in cluster.Gateways)
        {
            Assert.False(await EmailTravelsAsync(gateway, subject));
        }
    }

    private static async Task<(double LatencyMs, int StillForwarded)> PollUntilWithheldAsync(GatewayHost gateway, string subject, long since)
    {
        var forwarded = 0;
        while (true)
        {
            var probe = await ProbeAsync(gateway, subject);
            Assert.Equal(200, probe.Status);
            var now = Stopwatch.GetTimestamp();
            if (!probe.EmailForwarded)
            {
                return (Milliseconds(since, now), forwarded);
            }

            forwarded++;
            if (Milliseconds(since, now) > NotificationBound.TotalMilliseconds)
            {
                return (Milliseconds(since, now), forwarded);
            }

            await Task.Delay(PollStep);
        }
    }

    /// <summary>Polls one instance (at most 1 s, 5 ms steps) until the field is (or is not) forwarded; returns ms since <paramref name="since"/>, or +∞.</summary>
    private static async Task<double> PollUntilAsync(GatewayHost gateway, string subject, long since, bool wantForwarded)
    {
        while (true)
        {
            var probe = await ProbeAsync(gateway, subject);
            Assert.Equal(200, probe.Status);
            var elapsed = Milliseconds(since, Stopwatch.GetTimestamp());
            if (probe.EmailForwarded == wantForwarded)
            {
                return elapsed;
            }

            if (elapsed > NotificationBound.TotalMilliseconds)
            {
                return double.PositiveInfinity;
            }

            await Task.Delay(PollStep);
        }
    }

    private sealed record ReconnectWatch(double LostMs, double RestoredMs, double FirstWithheldMs, int ForwardedAfterWrite, int ForwardedAfterRestore);

    /// <summary>When the subscribers were cut and the withdrawal written (Stopwatch timestamps; 0 = not yet).</summary>
    private sealed class WatchClock
    {
        private long _killedAt;
        private long _writtenAt;

        public long KilledAt
        {
            get => Volatile.Read(ref _killedAt);
            set => Volatile.Write(ref _killedAt, value);
        }

        public long WrittenAt
        {
            get => Volatile.Read(ref _writtenAt);
            set => Volatile.Write(ref _writtenAt, value);
        }
    }

    /// <summary>Records when an instance, after the cut, confirms its subscription back (its hub distrusts all of L1).</summary>
    private sealed class RestoreWatch : IDisposable
    {
        private readonly ConsentInvalidation _hub;
        private readonly WatchClock _clock;
        private long _restoredAt;

        public RestoreWatch(ConsentInvalidation hub, WatchClock clock)
        {
            _hub = hub;
            _clock = clock;
            _hub.AllInvalidated += OnAllInvalidated;
        }

        public long RestoredAt => Interlocked.Read(ref _restoredAt);

        public void Dispose() => _hub.AllInvalidated -= OnAllInvalidated;

        private void OnAllInvalidated()
        {
            if (_clock.KilledAt != 0)
            {
                Interlocked.CompareExchange(ref _restoredAt, Stopwatch.GetTimestamp(), 0);
            }
        }
    }

    /// <summary>
    /// Alternates readiness checks and requests on one instance; reports (ms after the write; the loss may
    /// precede it) when /readyz first said degraded, when the instance trusted L1 again, the first request
    /// that withheld the field, and whether any request sent after the write and after L1 was trusted
    /// again still forwarded the withdrawn field.
    /// </summary>
    private static async Task<ReconnectWatch> WatchReconnectAsync(GatewayHost gateway, string subject, WatchClock clock, RestoreWatch restore, TimeSpan duration)
    {
        long lostAt = 0, firstWithheldAt = 0;
        int forwardedAfterWrite = 0, forwardedAfterRestore = 0;
        var started = Stopwatch.GetTimestamp();
        while (Milliseconds(started, Stopwatch.GetTimestamp()) < duration.TotalMilliseconds + 1000)
        {
            using (var ready = await gateway.Admin.GetAsync("readyz"))
            {
                if (ready.StatusCode != HttpStatusCode.OK && clock.KilledAt != 0 && lostAt == 0)
                {
                    lostAt = Stopwatch.GetTimestamp();
                }
            }

            var probe = await ProbeAsync(gateway, subject);
            Assert.Equal(200, probe.Status);
            var writtenAt = clock.WrittenAt;
            var restoredAt = restore.RestoredAt;
            if (writtenAt != 0 && probe.SentAt > writtenAt)
            {
                if (probe.EmailForwarded)
                {
                    forwardedAfterWrite++;
                    if (restoredAt != 0 && probe.SentAt > restoredAt)
                    {
                        forwardedAfterRestore++;
                    }
                }
                else if (firstWithheldAt == 0)
                {
                    firstWithheldAt = probe.SentAt;
                }

                if (restoredAt != 0 && firstWithheldAt != 0 && Milliseconds(Math.Max(restoredAt, writtenAt), Stopwatch.GetTimestamp()) > 200)
                {
                    break; // watched long enough past the reconnect
                }

                if (Milliseconds(writtenAt, Stopwatch.GetTimestamp()) > duration.TotalMilliseconds)
                {
                    break;
                }
            }

            await Task.Delay(PollStep);
        }

        var written = clock.WrittenAt;
        double Since(long at) => at == 0 ? double.NaN : Milliseconds(written, at);
        return new ReconnectWatch(Since(lostAt), Since(restore.RestoredAt), firstWithheldAt == 0 ? double.PositiveInfinity : Since(firstWithheldAt), forwardedAfterWrite, forwardedAfterRestore);
    }
}
