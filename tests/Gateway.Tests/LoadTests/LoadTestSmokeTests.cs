using ConsentGateway.LoadTests;
using ConsentGateway.LoadTests.Bed;
using ConsentGateway.LoadTests.Report;
using Xunit.Abstractions;

namespace ConsentGateway.Tests.LoadTests;

/// <summary>
/// Runs the load-test harness in-process with tiny rates (~1 s per scenario, a few seconds in all)
/// against the built SampleApi, gateway and plain YARP binaries; the harness starts its own
/// redis-server. Asserts the run's shape and its correctness thresholds, never performance.
/// </summary>
public sealed class LoadTestSmokeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Smoke_run_writes_reports_runs_every_scenario_and_evaluates_thresholds()
    {
        await InTempDirectoryAsync(async dir =>
        {
            var options = LoadTestOptions.Parse(["--smoke", "--floor-burn", "20", "--out", dir]);
            using var log = new StringWriter();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var (report, exitCode) = await LoadTestProgram.RunAsync(options, log, timeout.Token);
            output.WriteLine(log.ToString());

            Assert.NotNull(report);
            foreach (var file in new[] { ReportWriter.MarkdownFile, ReportWriter.JsonFile, ReportWriter.ChartFile })
            {
                var path = Path.Combine(dir, file);
                Assert.True(File.Exists(path), $"{file} was not written");
                Assert.True(new FileInfo(path).Length > 0, $"{file} is empty");
            }

            string[] expected =
            [
                "direct-get-8k", "yarp-get-8k", "gateway-l1-get-8k", "floor-get-8k", "floorburn-get-8k", "yarp-post-8k", "gateway-l1-post-8k", "floor-post-8k",
                "yarp-get-8k-fixed", "gateway-l1-get-8k-fixed", "yarp-get-8k-fixed-again", "floor-get-8k-fixed", "floorburn-get-8k-fixed",
                "gateway-l2-post-8k", "gateway-churn-get-8k", "gateway-redis-down-post-8k",
            ];
            Assert.Equal(expected, report.Scenarios.Select(s => s.Name));
            Assert.All(report.Scenarios, s =>
            {
                Assert.True(s.Requests > 0, $"{s.Name} sent no requests");
                Assert.NotEmpty(s.Thresholds);
                Assert.True(s.P50Ms > 0 && s.MaxMs >= s.P99Ms && s.P99Ms >= s.P50Ms, $"{s.Name} has inconsistent percentiles");
                Assert.Equal(s.Rounds, s.RoundP99Ms.Count);
                Assert.Equal(s.Rounds, s.RoundThroughputRps.Count);
                Assert.True(s.RoundThroughputRps.TrueForAll(rps => rps > 0), $"{s.Name} has a round without throughput");

                // The load generator's connections were opened before the rounds, and each round counts any it opened itself.
                Assert.True(s.ConnectionLimit > 0, $"{s.Name}: no connection limit recorded");
                Assert.InRange(s.ConnectionsOpenedAhead, 1, s.ConnectionLimit);
                Assert.Equal(s.Rounds, s.RoundConnectionsOpened.Count);
                Assert.True(s.RoundConnectionsOpened.TrueForAll(n => n >= 0), $"{s.Name}: {string.Join(", ", s.RoundConnectionsOpened)}");

                // Each round's slowest request, and when it was due: inside its round, rounds in order.
                Assert.Equal(s.Rounds, s.RoundMaxMs.Count);
                Assert.Equal(s.Rounds, s.RoundStartedUtc.Count);
                Assert.Equal(s.Rounds, s.RoundSlowestSentUtc.Count);
                Assert.True(Math.Abs(s.MaxMs - s.RoundMaxMs.Max()) <= (s.MaxMs * 0.002) + 0.001, $"{s.Name}: max {s.MaxMs} ms, slowest of the rounds {s.RoundMaxMs.Max()} ms"); // the histogram keeps 3 significant digits
                for (var r = 0; r < s.Rounds; r++)
                {
                    Assert.True(r == 0 || s.RoundStartedUtc[r] > s.RoundStartedUtc[r - 1], $"{s.Name}: round {r} began before round {r - 1}");
                    var due = s.RoundSlowestSentUtc[r] - s.RoundStartedUtc[r];
                    Assert.True(due >= TimeSpan.Zero && due < TimeSpan.FromSeconds(30), $"{s.Name}: round {r}'s slowest request was due {due} after the round began");
                }

                // Each round's CPU used outside the bed is measured (Linux /proc), as a share of the machine.
                Assert.Equal(OperatingSystem.IsLinux() ? s.Rounds : 0, s.RoundForeignCpu.Count);
                Assert.True(s.RoundForeignCpu.TrueForAll(share => share is >= 0 and <= 1), $"{s.Name}: {string.Join(", ", s.RoundForeignCpu)}");

                // And, every round, the proxy under test's CPU per request and the upstream connections it opened.
                if (OperatingSystem.IsLinux() && TestBed.ProxyProcess(s.Target) is { } proxy)
                {
                    Assert.True(s.RoundCpuPerRequestUs.TryGetValue(proxy, out var perRequest) && perRequest.Count == s.Rounds, $"{s.Name}: no {proxy} CPU per request");
                    Assert.True(s.RoundUpstreamConnectionsOpened.TryGetValue(proxy, out var opened) && opened.Count == s.Rounds, $"{s.Name}: no {proxy} upstream connections");
                    Assert.True(opened.TrueForAll(n => n >= 0), $"{s.Name}: {string.Join(", ", opened)}");

                    // Its pool was filled to the scenario's connection limit (SampleApi paused while opening), or an earlier scenario's filled it further.
                    Assert.True(s.UpstreamConnectionsAhead.GetValueOrDefault(proxy) >= s.ConnectionLimit, $"{s.Name}: {proxy} held {s.UpstreamConnectionsAhead.GetValueOrDefault(proxy)} upstream connections of {s.ConnectionLimit}");
                }
            });

            // At smoke rates one round can stay under a 10 ms clock tick; all gateway rounds together cannot.
            if (OperatingSystem.IsLinux())
            {
                Assert.True(report.Scenarios.Where(s => s.Target == "gateway").Sum(s => s.RoundCpuPerRequestUs["gateway"].Sum()) > 0, "the gateway's CPU was never measured");
            }

            // Answers without enforcement carry the marker values the gateway's leak check looks for, so
            // that check could see a leak; the gateway's answers to the same requests carry none.
            Assert.All(report.Scenarios.Where(s => s.Target is "direct" or "yarp" or "floor" or "floorburn"), s => Assert.True(s.Ok > 0 && s.WithMarker >= s.Ok, $"{s.Name}: {s.WithMarker} of {s.Ok} successful answers carried a marker"));
            Assert.Equal(0, report.Scenarios.Single(s => s.Name == "gateway-l1-get-8k").WithMarker);

            // The comparisons the report must show were computed (their values are not asserted here).
            Assert.Contains(report.Ratios, r => r.Name.StartsWith("throughput gateway-l1 / yarp, GET 8k", StringComparison.Ordinal));
            Assert.Contains(report.Ratios, r => r.Name.StartsWith("p99 added", StringComparison.Ordinal));
            Assert.Contains(report.Ratios, r => r.IsControl && r.Name.StartsWith("A/A control", StringComparison.Ordinal));
            Assert.Contains(report.Ratios, r => r.Name == "Redis down: responses with a leaked field");
            Assert.Contains(report.Ratios, r => r.IsControl && r.Name.StartsWith("throughput floor / yarp, POST 8k", StringComparison.Ordinal));
            Assert.Contains(report.Ratios, r => r.IsControl && r.Name.StartsWith("p99 added by the floor", StringComparison.Ordinal));
            Assert.Contains(report.Ratios, r => r.IsControl && r.Name.StartsWith("p99 added by the burned floor over the floor", StringComparison.Ordinal));
            Assert.Contains(report.Ratios, r => r.IsControl && r.Numerator == "gateway-l1-get-8k-fixed" && r.Denominator == "floorburn-get-8k-fixed" && r.Name.StartsWith("p99 added by the gateway over the burned floor at", StringComparison.Ordinal));
            Assert.Contains(report.Ratios, r => r.IsControl && r.Name.StartsWith("throughput burned floor / yarp, GET 8k", StringComparison.Ordinal));

            // Correctness thresholds (no errors, no 5xx, no leaked field, Redis down fails closed) hold even at smoke rates.
            Assert.True(report.Passed, "thresholds failed: " + string.Join("; ", report.Failures));
            Assert.Equal(0, exitCode);
            var markdown = await File.ReadAllTextAsync(Path.Combine(dir, ReportWriter.MarkdownFile));
            Assert.Contains("gateway-redis-down-post-8k", markdown, StringComparison.Ordinal);
            Assert.Contains("| outside CPU | connections |", markdown, StringComparison.Ordinal);

            // The build it measured is recorded (this checkout is a git clone), and the across-runs summary reads the JSON back.
            Assert.NotNull(report.Build);
            Assert.Matches("^[0-9a-f]{7,}", report.Build.Source);
            Assert.Contains($"| build | `src/` at {report.Build.Source}", markdown, StringComparison.Ordinal);
            var summary = RunSummary.Read(dir, await File.ReadAllTextAsync(Path.Combine(dir, ReportWriter.JsonFile)));
            Assert.Equal(report.Build.Source, summary.Source);
            Assert.Equal(report.Ratios.Select(r => (r.Name, r.Value, r.Goal, r.IsControl)), summary.Ratios.Select(r => (r.Name, r.Value, r.Goal, r.IsControl)));
            if (OperatingSystem.IsLinux())
            {
                Assert.Contains("## CPU per request, by process", markdown, StringComparison.Ordinal);
                Assert.Contains("## Upstream connections", markdown, StringComparison.Ordinal);
            }
        });
    }

    [Fact]
    public async Task Pin_proxies_starts_the_gateway_and_plain_yarp_on_their_own_cpu()
    {
        await InTempDirectoryAsync(async dir =>
        {
            var options = LoadTestOptions.Parse(["--smoke", "--no-wrk", "--pin-proxies", "--only", "get-8k-fixed", "--out", dir]);
            using var log = new StringWriter();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var (report, exitCode) = await LoadTestProgram.RunAsync(options, log, timeout.Token);
            output.WriteLine(log.ToString());

            if (!OperatingSystem.IsLinux() || Environment.ProcessorCount < 2)
            {
                Assert.Equal(2, exitCode); // refused, with the reason in the log
                Assert.Contains("--pin-proxies needs", log.ToString(), StringComparison.Ordinal);
                return;
            }

            Assert.NotNull(report);
            Assert.Equal(0, exitCode);
            Assert.Contains($"gateway on CPUs {TestBed.ProxyCpu},", report.Settings, StringComparison.Ordinal);
            Assert.Contains($"plainproxy on CPUs {TestBed.ProxyCpu},", report.Settings, StringComparison.Ordinal);
            Assert.Equal(["yarp-get-8k-fixed", "gateway-l1-get-8k-fixed", "yarp-get-8k-fixed-again"], report.Scenarios.Where(s => s.Requests > 0).Select(s => s.Name));
        });
    }

    [Fact]
    public async Task Only_runs_the_named_scenarios_even_when_it_splits_a_compared_pair()
    {
        // "gateway-l1-get-8k" also selects the gateway's half of the fixed-rate pair, not plain YARP's:
        // the run must go on without that comparison instead of failing on the missing half.
        await InTempDirectoryAsync(async dir =>
        {
            var options = LoadTestOptions.Parse(["--smoke", "--no-wrk", "--only", "gateway-l1-get-8k,gateway-churn", "--out", dir]);
            using var log = new StringWriter();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var (report, exitCode) = await LoadTestProgram.RunAsync(options, log, timeout.Token);
            output.WriteLine(log.ToString());

            Assert.NotNull(report);
            Assert.Equal(["gateway-l1-get-8k", "gateway-l1-get-8k-fixed", "gateway-churn-get-8k"], report.Scenarios.Select(s => s.Name));
            Assert.All(report.Scenarios, s => Assert.True(s.Requests > 0, $"{s.Name} sent no requests"));
            Assert.DoesNotContain(report.Ratios, r => r.Name.StartsWith("p99 added", StringComparison.Ordinal));
            Assert.Equal(0, exitCode);
        });
    }

    /// <summary>Runs <paramref name="body"/> with a fresh output directory for the harness, removed afterwards.</summary>
    private static async Task InTempDirectoryAsync(Func<string, Task> body)
    {
        var dir = Path.Combine(Path.GetTempPath(), "loadtest-" + Guid.NewGuid().ToString("N"));
        try
        {
            await body(dir);
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public void Wrk_output_is_parsed()
    {
        const string raw = """
            Running 8s test @ http://127.0.0.1:1/customers/c-1001/profile?size=medium
              2 threads and 32 connections
              Thread Stats   Avg      Stdev     Max   +/- Stdev
                Latency     5.10ms    2.00ms  40.12ms   80.00%
                Req/Sec     3.20k   200.00     3.60k    70.00%
              Latency Distribution
                 50%    4.80ms
                 75%    6.00ms
                 90%    7.50ms
                 99%  850.00us
              51200 requests in 8.00s, 420.00MB read
              Non-2xx or 3xx responses: 3
            Requests/sec:   6400.00
            Transfer/sec:     52.50MB
            """;
        var r = WrkRunner.Parse("wrk", raw);
        Assert.Equal(6400, r.RequestsPerSecond);
        Assert.Equal(4.8, r.P50Ms, 3);
        Assert.Equal(0.85, r.P99Ms, 3);
        Assert.Equal(40.12, r.MaxMs, 3);
        Assert.Equal(51200, r.Requests);
        Assert.Equal(3, r.Non2xx);
    }
}
