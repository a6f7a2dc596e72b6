using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ConsentGateway.Consent;
using ConsentGateway.Testing;
using HdrHistogram;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace ConsentGateway.RevocationBench;

/// <summary>
/// Revocation-to-enforcement latency across three in-process gateway instances sharing one redis-server.
/// Per withdrawal: grant for a fresh subject, warm every instance's L1, withdraw through instance A's
/// consent API, then poll all three instances concurrently (tight loop) until each withholds the field;
/// record, per instance, acknowledgement → first withholding response.
/// </summary>
internal static class RevocationBenchmark
{
    private const long HighestMicros = 10_000_000; // 10 s
    private const double TargetP99Micros = 5_000;
    private static readonly TimeSpan PollCap = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(string[] args, TextWriter console)
    {
        var withdrawals = 1000;
        var warmup = 100;
        var baselineSamples = 2000;
        string? output = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--withdrawals" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var n) && n >= 1:
                    withdrawals = n;
                    i++;
                    break;
                case "--warmup" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var w) && w >= 0:
                    warmup = w;
                    i++;
                    break;
                case "--output" when i + 1 < args.Length:
                    output = args[++i];
                    break;
                case "-h" or "--help":
                    console.WriteLine("usage: Gateway.RevocationBench [--withdrawals N (default 1000)] [--warmup N (default 100, not recorded)] [--output FILE (default loadtests/results/revocation-latency.md)]");
                    return 0;
                default:
                    await Console.Error.WriteLineAsync($"unknown or invalid argument: {args[i]} (try --help)");
                    return 2;
            }
        }

        var redisExecutable = RedisServer.FindExecutable();
        if (redisExecutable is null)
        {
            await Console.Error.WriteLineAsync($"redis-server was not found on PATH; this benchmark starts its own. Install it with: {RedisServer.InstallHint}");
            return 2;
        }

        output ??= Path.Combine(RepositoryRoot() ?? Directory.GetCurrentDirectory(), "loadtests", "results", "revocation-latency.md");
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();

        using var redis = new RedisServer(redisExecutable);
        await using var upstream = await BenchUpstream.StartAsync();
        var configDirectory = Directory.CreateTempSubdirectory("revocation-bench-").FullName;
        var configPath = Path.Combine(configDirectory, "gateway.json");
        await File.WriteAllTextAsync(configPath, GatewayInstance.Config(upstream.BaseAddress).ToJsonString());

        var instances = new List<GatewayInstance>();
        try
        {
            foreach (var name in new[] { "A", "B", "C" })
            {
                instances.Add(await GatewayInstance.StartAsync(name, configPath, redis.ConnectionString));
            }

            console.WriteLine($"redis-server on {redis.ConnectionString}; 3 gateway instances ready; {warmup} warm-up + {withdrawals} measured withdrawals");

            var notify = await MeasureRedisNotificationAsync(redis.ConnectionString, baselineSamples);
            var perInstance = instances.Select(_ => NewHistogram()).ToArray();
            var overall = NewHistogram();
            var hitRoundTrip = NewHistogram();
            var stale = new long[instances.Count];
            var staleWithdrawals = new long[instances.Count];
            var timeouts = new long[instances.Count];
            var evictions = instances.Select(_ => NewHistogram()).ToArray();
            var evictedBeforeAck = new long[instances.Count];
            var watches = instances.Select(i => new EvictionWatch(i.Services.GetRequiredService<ConsentInvalidation>())).ToArray();
            var loadBefore = LoadAverage();
            long warmFailClosed = 0;

            for (var i = -warmup; i < withdrawals; i++)
            {
                var record = i >= 0;
                var subject = $"rb-{i + warmup:D6}-{Guid.NewGuid():N}"[..24];
                await instances[0].WriteConsentAsync(subject, "granted");
                foreach (var instance in instances)
                {
                    // First request misses L1 and reads the grant from Redis; the second is a timed L1 hit. On a
                    // loaded machine the miss can exceed Consent:LookupTimeout (50 ms) and fail closed (the read
                    // still completes and fills L1): retry, and count it.
                    var warmStarted = Stopwatch.GetTimestamp();
                    while (!await instance.EmailTravelsAsync(subject))
                    {
                        warmFailClosed++;
                        if (Stopwatch.GetElapsedTime(warmStarted) > PollCap)
                        {
                            throw new InvalidOperationException($"instance {instance.Name} did not forward the field within {PollCap.TotalSeconds} s of the grant");
                        }

                        await Task.Delay(1);
                    }

                    var t0 = Stopwatch.GetTimestamp();
                    if (!await instance.EmailTravelsAsync(subject))
                    {
                        throw new InvalidOperationException($"instance {instance.Name} did not forward the field from its warm L1");
                    }

                    if (record)
                    {
                        hitRoundTrip.RecordValue(Micros(Stopwatch.GetTimestamp() - t0));
                    }
                }

                foreach (var watch in watches)
                {
                    watch.Watch(subject);
                }

                var writeStarted = Stopwatch.GetTimestamp();
                await instances[0].WriteConsentAsync(subject, "denied");
                var acknowledged = Stopwatch.GetTimestamp();
                var results = await Task.WhenAll(instances.Select(instance => PollUntilWithheldAsync(instance, subject, acknowledged)));
                if (!record)
                {
                    continue;
                }

                for (var k = 0; k < results.Length; k++)
                {
                    var (micros, forwarded, timedOut) = results[k];
                    perInstance[k].RecordValue(Math.Min(micros, HighestMicros));
                    overall.RecordValue(Math.Min(micros, HighestMicros));
                    stale[k] += forwarded;
                    staleWithdrawals[k] += forwarded > 0 ? 1 : 0;
                    timeouts[k] += timedOut ? 1 : 0;
                    var evictedAt = watches[k].EvictedAt;
                    if (evictedAt != 0)
                    {
                        evictions[k].RecordValue(Math.Clamp(Micros(evictedAt - writeStarted), 0, HighestMicros));
                        evictedBeforeAck[k] += evictedAt <= acknowledged ? 1 : 0;
                    }
                }

                if ((i + 1) % 250 == 0)
                {
                    console.WriteLine($"  {i + 1}/{withdrawals} withdrawals, overall p99 so far {overall.GetValueAtPercentile(99)} µs");
                }
            }

            var report = Report(args, started, clock.Elapsed, redisExecutable, withdrawals, warmup, instances.Select(x => x.Name).ToArray(),
                perInstance, overall, stale, staleWithdrawals, timeouts, notify, hitRoundTrip, evictions, evictedBeforeAck, loadBefore, LoadAverage(), warmFailClosed);
            foreach (var watch in watches)
            {
                watch.Dispose();
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
            await File.WriteAllTextAsync(output, report);
            console.WriteLine(report);
            console.WriteLine($"written to {Path.GetFullPath(output)}");
            return timeouts.Sum() > 0 ? 1 : 0;
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }

            try
            {
                Directory.Delete(configDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Tight loop on one instance until a request withholds the field; µs from acknowledgement to that response.</summary>
    private static async Task<(long Micros, int Forwarded, bool TimedOut)> PollUntilWithheldAsync(GatewayInstance instance, string subject, long acknowledged)
    {
        var forwarded = 0;
        while (true)
        {
            var travels = await instance.EmailTravelsAsync(subject);
            var elapsed = Stopwatch.GetTimestamp() - acknowledged;
            if (!travels)
            {
                return (Micros(elapsed), forwarded, false);
            }

            forwarded++;
            if (elapsed > PollCap.TotalSeconds * Stopwatch.Frequency)
            {
                return (Micros(elapsed), forwarded, true);
            }
        }
    }

    /// <summary>Baseline: PUBLISH by one plain client → delivery to another plain client's subscription handler.</summary>
    private static async Task<LongHistogram> MeasureRedisNotificationAsync(string connectionString, int samples)
    {
        var histogram = NewHistogram();
        await using var publisher = await ConnectionMultiplexer.ConnectAsync(connectionString);
        await using var subscriber = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var channel = RedisChannel.Literal("bench:baseline");
        TaskCompletionSource<long>? pending = null;
        await subscriber.GetSubscriber().SubscribeAsync(channel, (_, _) => Volatile.Read(ref pending)?.TrySetResult(Stopwatch.GetTimestamp()));
        for (var i = -100; i < samples; i++)
        {
            var tcs = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref pending, tcs);
            var sent = Stopwatch.GetTimestamp();
            await publisher.GetSubscriber().PublishAsync(channel, "x");
            var received = await tcs.Task.WaitAsync(TimeSpan.FromSeconds(5));
            if (i >= 0)
            {
                histogram.RecordValue(Micros(received - sent));
            }
        }

        return histogram;
    }

    private static string Report(string[] args, DateTime started, TimeSpan duration, string redisExecutable, int withdrawals, int warmup, string[] names,
        LongHistogram[] perInstance, LongHistogram overall, long[] stale, long[] staleWithdrawals, long[] timeouts, LongHistogram notify, LongHistogram hitRoundTrip,
        LongHistogram[] evictions, long[] evictedBeforeAck, string loadBefore, string loadAfter, long warmFailClosed)
    {
        var sb = new StringBuilder();
        var command = "dotnet run -c Release --project loadtests/Gateway.RevocationBench" + (args.Length > 0 ? " -- " + string.Join(' ', args) : "");
#if DEBUG
        const string configuration = "Debug (figures not representative: run with -c Release)";
#else
        const string configuration = "Release";
#endif
        var p99 = overall.GetValueAtPercentile(99);
        sb.AppendLine("# Revocation-to-enforcement latency (three gateway instances, one Redis)");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Target (real-time consent issue): p99 under 5 ms on loopback. **Overall p99 = {Ms(p99)} ms: {(p99 < TargetP99Micros ? "met" : "NOT met")}.**");
        sb.AppendLine();
        sb.AppendLine("## How it was measured");
        sb.AppendLine();
        sb.AppendLine("- Three gateway instances built by `GatewayApp.Build` (the production composition, each with its own L1), in one process,");
        sb.AppendLine("  with one redis-server started by the benchmark on a free loopback port, and a minimal in-process Kestrel upstream");
        sb.AppendLine("  that reports in a response header whether the `email` field reached it. Default consent settings (`CacheTtl` 30 s).");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Per withdrawal ({withdrawals} measured, after {warmup} unrecorded warm-up withdrawals): grant `marketing` for a fresh subject through");
        sb.AppendLine("  instance A's consent API; on every instance one request (L1 miss, reads the grant) and one timed request (L1 hit), both must");
        sb.AppendLine("  forward the field; then `PUT …/consents/marketing {\"status\":\"denied\"}` through instance A. From the moment A's API");
        sb.AppendLine("  acknowledged, all three instances are polled concurrently, each in a tight loop of proxied requests, until a request");
        sb.AppendLine("  withholds the field. Recorded per instance: acknowledgement → first withholding response (HdrHistogram, µs).");
        sb.AppendLine("- The figure therefore includes one full proxied round trip (client → gateway → upstream → client) and, on B and C,");
        sb.AppendLine("  the Redis pub/sub delivery; everything (3 gateways, pollers, upstream, Redis) shares the machine's cores.");
        sb.AppendLine("- \"Still forwarded\" counts responses received after the acknowledgement that carried the withdrawn field");
        sb.AppendLine("  (requests that raced the notification); 0 means every instance's very first request after the acknowledgement withheld it.");
        sb.AppendLine();
        sb.AppendLine("## Results");
        sb.AppendLine();
        sb.AppendLine("| instance | withdrawals | p50 (ms) | p90 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | responses still forwarding after ack | withdrawals affected | not enforced within 2 s |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (var k = 0; k < names.Length; k++)
        {
            var h = perInstance[k];
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {names[k]}{(k == 0 ? " (writer)" : "")} | {h.TotalCount} | {Ms(h.GetValueAtPercentile(50))} | {Ms(h.GetValueAtPercentile(90))} | {Ms(h.GetValueAtPercentile(99))} | {Ms(h.GetValueAtPercentile(99.9))} | {Ms(h.GetMaxValue())} | {stale[k]} | {staleWithdrawals[k]} | {timeouts[k]} |");
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"| **overall** | {overall.TotalCount} | {Ms(overall.GetValueAtPercentile(50))} | {Ms(overall.GetValueAtPercentile(90))} | **{Ms(p99)}** | {Ms(overall.GetValueAtPercentile(99.9))} | {Ms(overall.GetMaxValue())} | {stale.Sum()} | {staleWithdrawals.Sum()} | {timeouts.Sum()} |");
        sb.AppendLine();
        sb.AppendLine("Where the time goes: the moment each instance's L1 dropped the subject (the gateway's own invalidation hook,");
        sb.AppendLine("`ConsentInvalidation.SubjectInvalidated`, observed in-process), measured from the moment the withdrawal PUT was *sent* to A:");
        sb.AppendLine();
        sb.AppendLine("| instance | evictions seen | p50 (ms) | p90 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | evicted before A's API acknowledged |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (var k = 0; k < names.Length; k++)
        {
            var h = evictions[k];
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {names[k]}{(k == 0 ? " (writer)" : "")} | {h.TotalCount} | {Ms(h.GetValueAtPercentile(50))} | {Ms(h.GetValueAtPercentile(90))} | {Ms(h.GetValueAtPercentile(99))} | {Ms(h.GetValueAtPercentile(99.9))} | {Ms(h.GetMaxValue())} | {evictedBeforeAck[k]} |");
        }

        sb.AppendLine();
        sb.AppendLine("Baselines on the same machine, same run:");
        sb.AppendLine();
        sb.AppendLine("| baseline | samples | p50 (ms) | p90 (ms) | p99 (ms) | p99.9 (ms) | max (ms) |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| Redis notification: PUBLISH by one plain client → handler of another's SUBSCRIBE | {notify.TotalCount} | {Ms(notify.GetValueAtPercentile(50))} | {Ms(notify.GetValueAtPercentile(90))} | {Ms(notify.GetValueAtPercentile(99))} | {Ms(notify.GetValueAtPercentile(99.9))} | {Ms(notify.GetMaxValue())} |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| one proxied request, L1 hit, field forwarded (sequential, no polling running) | {hitRoundTrip.TotalCount} | {Ms(hitRoundTrip.GetValueAtPercentile(50))} | {Ms(hitRoundTrip.GetValueAtPercentile(90))} | {Ms(hitRoundTrip.GetValueAtPercentile(99))} | {Ms(hitRoundTrip.GetValueAtPercentile(99.9))} | {Ms(hitRoundTrip.GetMaxValue())} |");
        sb.AppendLine();
        var notifyP99 = notify.GetValueAtPercentile(99);
        sb.AppendLine("Reading the figures:");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {staleWithdrawals.Sum()} of {overall.TotalCount} instance-withdrawals had a request that still carried the field after A acknowledged");
        sb.AppendLine("  (it raced the notification). In all the others the very first poll request already withheld it, so the figure is that");
        sb.AppendLine("  request's round trip under three concurrent pollers, not a wait for the notification; the eviction table shows B and C");
        sb.AppendLine("  usually dropped the subject before A's API response reached the client.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Plain Redis pub/sub p99 in this run was {Ms(notifyP99)} ms; on an idle machine of this kind it measured ≈ 0.14 ms (FIELD-NOTES).");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  {(notifyP99 > 1000 ? "The machine was contended during this run (see load average below), which dominates the tails; re-run on an idle machine before judging the 5 ms target." : "The machine was not visibly contended during this run.")}");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Warm-up requests (right after a grant, L1 miss) that failed closed because the store read exceeded `Consent:LookupTimeout` (50 ms) and were retried: {warmFailClosed}.");
        sb.AppendLine();
        sb.AppendLine("## Machine and run");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"- date (UTC): {started:yyyy-MM-dd HH:mm:ss}; run time {duration.TotalSeconds:F1} s");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- `nproc`: {Nproc()}; CPU: {CpuModel()}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- OS: {RuntimeInformation.OSDescription}; .NET: {RuntimeInformation.FrameworkDescription}; build: {configuration}; GC: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- redis-server: {RedisServer.Version(redisExecutable)}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- load average (/proc/loadavg) before the measured loop: {loadBefore}; after: {loadAfter} (other work on the machine inflates the tail)");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- command (from the repository root): `{command}`");
        return sb.ToString();
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>Records when one instance's invalidation hub first drops the watched subject.</summary>
    private sealed class EvictionWatch : IDisposable
    {
        private readonly ConsentInvalidation _hub;
        private volatile string? _subject;
        private long _evictedAt;

        public EvictionWatch(ConsentInvalidation hub)
        {
            _hub = hub;
            _hub.SubjectInvalidated += OnInvalidated;
        }

        public long EvictedAt => Interlocked.Read(ref _evictedAt);

        public void Watch(string subject)
        {
            Interlocked.Exchange(ref _evictedAt, 0);
            _subject = subject;
        }

        public void Dispose() => _hub.SubjectInvalidated -= OnInvalidated;

        private void OnInvalidated(string subject)
        {
            if (string.Equals(subject, _subject, StringComparison.Ordinal))
            {
                Interlocked.CompareExchange(ref _evictedAt, Stopwatch.GetTimestamp(), 0);
            }
        }
    }

    private static LongHistogram NewHistogram() => new(HighestMicros, 3);

    private static long Micros(long stopwatchTicks) => stopwatchTicks * 1_000_000 / Stopwatch.Frequency;

    private static string Ms(long micros) => (micros / 1000.0).ToString("F3", CultureInfo.InvariantCulture);

    private static string Nproc()
    {
        try
        {
            var info = new ProcessStartInfo("nproc") { RedirectStandardOutput = true, UseShellExecute = false };
            using var process = Process.Start(info)!;
            var text = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return text;
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) + " (Environment.ProcessorCount)";
        }
    }

    private static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string? RepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }
}
