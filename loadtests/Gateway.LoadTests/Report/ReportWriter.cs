using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ConsentGateway.LoadTests.Engine;

namespace ConsentGateway.LoadTests.Report;

/// <summary>Writes report.md, report.json and latency.png.</summary>
internal static class ReportWriter
{
    public const string MarkdownFile = "report.md";
    public const string JsonFile = "report.json";
    public const string ChartFile = "latency.png";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static async Task WriteAsync(RunReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, JsonFile), JsonSerializer.Serialize(report, JsonOptions));
        await File.WriteAllTextAsync(Path.Combine(directory, MarkdownFile), Markdown(report));
        Chart(report, Path.Combine(directory, ChartFile));
    }

    /// <summary>"64 of 64", and ", +3 in 2 rounds" when connections were opened while measuring.</summary>
    private static string Connections(ScenarioResult s)
    {
        var during = s.RoundConnectionsOpened.Sum();
        var rounds = s.RoundConnectionsOpened.Count(n => n > 0);
        return $"{s.ConnectionsOpenedAhead} of {s.ConnectionLimit}" + (during > 0 ? $", **+{during} in {rounds} round{(rounds == 1 ? "" : "s")}**" : "");
    }

    private static string F(double v, string format = "0.00") => double.IsNaN(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);

    public static string Markdown(RunReport r)
    {
        var sb = new StringBuilder();
        void L(string line = "") => sb.Append(line).Append('\n');
        L(r.Smoke ? "# Load test report (smoke run)" : "# Load test report");
        L();
        L($"**Verdict: {(r.Passed ? "PASSED" : "FAILED")}** (correctness thresholds{(r.Failures.Count > 0 ? ": " + r.Failures.Count + " failed" : "")}; " +
          $"performance goals missed: {r.GoalsMissed.Count})");
        L();
        L("## Machine and command");
        L();
        var m = r.Machine;
        L("| | |");
        L("| --- | --- |");
        L($"| date | {m.Date} (run started {r.StartedUtc:yyyy-MM-dd HH:mm:ss} UTC, {F(r.WallSeconds, "0")} s wall) |");
        L($"| command | `{r.Command}` |");
        if (r.Build is { } build)
        {
            L($"| build | `src/` at {build.Source} (HEAD {build.Head}) |");
        }

        L($"| nproc | {m.Nproc} |");
        L($"| CPU | {m.CpuModel} |");
        L($"| memory | {m.Memory} |");
        L($"| OS | {m.Os} |");
        L($"| .NET | {m.Dotnet} |");
        L($"| redis | {m.Redis} |");
        L($"| wrk | {m.Wrk} |");
        L($"| load average at start (/proc/loadavg; includes run.sh's build just before) | {m.LoadAverage} |");
        L($"| settings | {r.Settings} |");
        L();
        L("Load generator, redis-server, SampleApi, the gateway and the plain YARP proxy all share this machine's cores on loopback, " +
          "so absolute numbers are pessimistic for every proxy and ratios are the meaningful output.");
        L();
        // The load average at start includes run.sh's own build a moment before, so it only decides the
        // warning when the CPU used outside the bed could not be measured.
        var foreign = r.Scenarios.SelectMany(s => s.RoundForeignCpu).ToList();
        if (foreign.Count > 0)
        {
            L($"CPU used outside the test bed (other tenants of the host, steal) while the rounds ran, as a share of the machine: " +
              $"mean {F(foreign.Average() * 100, "0.0")} %, highest round {F(foreign.Max() * 100, "0.0")} % (/proc/stat less the bed's and the load generator's own CPU; " +
              "per pair of rounds in the paired ratio rows, and per scenario in the `outside CPU` column).");
            L();
            if (foreign.Average() > 0.05 || foreign.Max() > 0.2)
            {
                L("**Warning: other processes used a noticeable share of the machine during the run.** Throughput ratios and especially tail latencies are disturbed; " +
                  "compared scenarios are interleaved to spread the disturbance evenly, but rerun on a quiet machine for numbers to rely on.");
                L();
            }
        }
        else if (double.TryParse(m.LoadAverage.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var load) && load > m.Nproc)
        {
            L($"**Warning: the 1-minute load average at start ({F(load, "0.0")}) exceeded nproc ({m.Nproc}).** Other processes may have been competing for the CPU, " +
              "so throughput ratios and especially tail latencies may be noisy. Compared scenarios are interleaved to spread the disturbance evenly; rerun on a quiet machine for numbers to rely on.");
            L();
        }

        L("## Ratios and goals");
        L();
        L("| comparison | numerator | denominator | value | goal | met |");
        L("| --- | --- | --- | ---: | --- | --- |");
        foreach (var q in r.Ratios)
        {
            L($"| {q.Name} | {q.Numerator} | {q.Denominator} | {F(q.Value, "0.###")} | {q.Goal} | {(q.IsControl ? "control" : q.Inconclusive is not null ? "inconclusive: " + q.Inconclusive : q.Met ? "yes" : "**no**")} |");
        }

        L();
        L("## Scenarios");
        L();
        L("Latency in ms, from each request's **scheduled** send time (open model) or recorded with " +
          "`RecordValueWithExpectedInterval` (closed model, expected interval = one worker's mean cycle in the warm-up), so stalls are not hidden. " +
          "`rps` is completed requests per second; `leaked` counts answers containing a value the purpose may not see. " +
          "`connections`: those the load generator opened to the target before measuring, of its limit, and any it opened during the measured rounds " +
          "(it keeps every connection for the whole run, as wrk does, so that a round does not time the target accepting new ones).");
        L();
        L("| scenario | payload | load | requests | rps | p50 | p75 | p95 | p99 | p99.9 | max | outside CPU | connections | by status | 5xx | leaked | thresholds |");
        L("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | --- |");
        foreach (var s in r.Scenarios.Where(s => s.Requests > 0))
        {
            var statuses = string.Join(", ", s.ByStatus.Select(kv => $"{kv.Key}: {kv.Value}"));
            var thresholds = s.Thresholds.Count == 0 ? "-" : s.Thresholds.All(t => t.Passed) ? "pass" : "**FAIL** " + string.Join("; ", s.Thresholds.Where(t => !t.Passed).Select(t => t.Name));
            L($"| {s.Name} | {s.Payload} | {s.Load} | {s.Requests} | {F(s.ThroughputRps, "0")} | {F(s.P50Ms, "0.000")} | {F(s.P75Ms, "0.000")} | {F(s.P95Ms, "0.000")} | {F(s.P99Ms, "0.000")} | {F(s.P999Ms, "0.000")} | {F(s.MaxMs, "0.0")} | {(s.RoundForeignCpu.Count == 0 ? "-" : F(s.RoundForeignCpu.Average() * 100, "0") + " %")} | {Connections(s)} | {statuses} | {s.Status5xx} | {s.Leaked} | {thresholds} |");
        }

        L();
        foreach (var s in r.Scenarios.Where(s => s.Requests > 0))
        {
            L($"- **{s.Name}**: {s.Description}." + (s.Note is null ? "" : $" {s.Note}."));
        }

        WriteCpuPerRequest(r, L);
        WriteUpstreamConnections(r, L);

        if (r.Wrk is { } w)
        {
            L();
            L("## Cross-check with wrk");
            L();
            L($"`{w.Command}` (one subject, closed loop: wrk times from the actual send, so its tail hides queueing).");
            L();
            L("| tool | rps | p50 | p75 | p90/p95 | p99 | max | non-2xx |");
            L("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            L($"| wrk | {F(w.RequestsPerSecond, "0")} | {F(w.P50Ms, "0.000")} | {F(w.P75Ms, "0.000")} | {F(w.P90Ms, "0.000")} (p90) | {F(w.P99Ms, "0.000")} | {F(w.MaxMs, "0.0")} | {w.Non2xx + w.SocketErrors} |");
            if (r.WrkCounterpart is { } c)
            {
                L($"| this harness ({c.Name}) | {F(c.ThroughputRps, "0")} | {F(c.P50Ms, "0.000")} | {F(c.P75Ms, "0.000")} | {F(c.P95Ms, "0.000")} (p95) | {F(c.P99Ms, "0.000")} | {F(c.MaxMs, "0.0")} | {c.Errors} |");
            }

            L();
            L("```");
            L(w.Raw);
            L("```");
        }

        L();
        L("## Thresholds");
        L();
        if (r.Failures.Count == 0)
        {
            L("All correctness thresholds passed (error rate ≤ 1 %; on gateway scenarios zero 5xx and zero leaked fields; Redis down ≥ 99 % 2xx).");
        }
        else
        {
            foreach (var f in r.Failures)
            {
                L($"- FAILED: {f}");
            }
        }

        foreach (var g in r.GoalsMissed)
        {
            L($"- goal missed (reported, does not fail the run without `--enforce-goals`): {g}");
        }

        L();
        L($"![latency percentiles]({ChartFile})");
        return sb.ToString();
    }

    /// <summary>
    /// Each process's CPU time per answered request, median over a scenario's rounds, and for each
    /// compared closed-model pair the two proxies' own CPU per request side by side: what the gateway
    /// costs, free of the throughput noise that everything sharing the two cores adds.
    /// </summary>
    private static void WriteCpuPerRequest(RunReport r, Action<string> line)
    {
        var measured = r.Scenarios.Where(s => s.Requests > 0 && s.RoundCpuPerRequestUs.Count > 0).ToList();
        if (measured.Count == 0)
        {
            return;
        }

        string[] processes = [HostCpu.LoadGenerator, "redis-server", "sampleapi", "plainproxy", "gateway",
            .. new[] { Bed.TestBed.FloorProcess, Bed.TestBed.FloorBurnProcess }.Where(p => r.Scenarios.Exists(s => s.RoundCpuPerRequestUs.ContainsKey(p)))];
        line("");
        line("## CPU per request, by process");
        line("");
        line("CPU time (user + system, from /proc) each process used per answered request, µs, median over the scenario's rounds. " +
             "On a saturated machine the throughput ratio follows from these: (load generator + upstream + plain YARP) / (load generator + upstream + gateway).");
        line("");
        line("| scenario | " + string.Join(" | ", processes) + " |");
        line("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", processes.Length)));
        foreach (var s in measured)
        {
            line($"| {s.Name} | " + string.Join(" | ", processes.Select(p => s.RoundCpuPerRequestUs.TryGetValue(p, out var v) && v.Count > 0 ? F(RoundStatistics.Median(v), "0") : "-")) + " |");
        }

        var pairs = r.Scenarios.Where(s => s.Name.StartsWith("gateway-l1-", StringComparison.Ordinal))
            .Select(gw => (Gateway: gw, Yarp: r.Scenarios.Find(y => y.Name == "yarp-" + gw.Name["gateway-l1-".Length..])))
            .Where(p => p.Yarp is not null && p.Gateway.RoundCpuPerRequestUs.ContainsKey("gateway") && p.Yarp.RoundCpuPerRequestUs.ContainsKey("plainproxy"))
            .ToList();
        if (pairs.Count > 0)
        {
            line("");
            line("| pair | gateway, µs per request | plain YARP, µs per request | gateway / YARP | machine CPU per request, gateway / YARP side |");
            line("| --- | ---: | ---: | ---: | ---: |");
            foreach (var (gw, yarp) in pairs)
            {
                var g = RoundStatistics.Median(gw.RoundCpuPerRequestUs["gateway"]);
                var y = RoundStatistics.Median(yarp!.RoundCpuPerRequestUs["plainproxy"]);
                var machineGw = gw.RoundCpuPerRequestUs.Where(kv => kv.Key != "plainproxy").Sum(kv => RoundStatistics.Median(kv.Value));
                var machineYarp = yarp.RoundCpuPerRequestUs.Where(kv => kv.Key != "gateway").Sum(kv => RoundStatistics.Median(kv.Value));
                line($"| {gw.Name} / {yarp.Name} | {F(g, "0")} | {F(y, "0")} | {F(g / y, "0.00")} | {F(machineGw, "0")} / {F(machineYarp, "0")} = {F(machineGw / machineYarp, "0.00")} |");
            }
        }
    }

    /// <summary>
    /// The connections each scenario's proxy held to the upstream before measuring and opened while
    /// measuring, with the round p99 of rounds that opened some beside those that did not: whether a
    /// stall round is the proxy growing its pool.
    /// </summary>
    private static void WriteUpstreamConnections(RunReport r, Action<string> line)
    {
        var rows = new List<string>();
        foreach (var s in r.Scenarios)
        {
            if (s.Requests == 0 || Bed.TestBed.ProxyProcess(s.Target) is not { } process
                || !s.RoundUpstreamConnectionsOpened.TryGetValue(process, out var opened))
            {
                continue;
            }

            var ahead = s.UpstreamConnectionsAhead.TryGetValue(process, out var n) ? n.ToString(CultureInfo.InvariantCulture) : "-";
            var with = new List<double>();
            var without = new List<double>();
            for (var i = 0; i < opened.Count && i < s.RoundP99Ms.Count; i++)
            {
                (opened[i] > 0 ? with : without).Add(s.RoundP99Ms[i]);
            }

            string P99(List<double> v) => v.Count == 0 ? "-" : F(RoundStatistics.Median(v), "0.00");
            rows.Add($"| {s.Name} | {process} | {ahead} | {opened.Sum()} | {with.Count} of {opened.Count} | {P99(with)} / {P99(without)} |");
        }

        if (rows.Count == 0)
        {
            return;
        }

        line("");
        line("## Upstream connections");
        line("");
        line("Connections each scenario's proxy held to SampleApi before its first measured round, and those it opened during the measured rounds " +
             "(its sockets in /proc present at a round's end and not at its start; one opened and closed within a round is not seen). " +
             "A proxy opening one inside a round times its connect path, and the JIT's first compilation of it, in that round.");
        line("");
        line("| scenario | process | open before round 1 | opened while measuring | rounds with openings | round p99, median with / without openings (ms) |");
        line("| --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var row in rows)
        {
            line(row);
        }
    }

    private static void Chart(RunReport report, string path)
    {
        var plot = new ScottPlot.Plot();
        var labels = new[] { "p50", "p75", "p95", "p99", "p99.9", "max" };
        double[] xs = [0, 1, 2, 3, 4, 5];
        var palette = new ScottPlot.Palettes.Category20();
        var n = 0;
        foreach (var s in report.Scenarios.Where(s => s.Requests > 0))
        {
            double[] ys = [.. new[] { s.P50Ms, s.P75Ms, s.P95Ms, s.P99Ms, s.P999Ms, s.MaxMs }.Select(v => Math.Log10(Math.Max(v, 0.001)))];
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = s.Name;
            line.Color = palette.GetColor(n++);
            line.LineWidth = 2;
            line.MarkerSize = 5;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs, labels);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("0.###", CultureInfo.InvariantCulture),
        };
        plot.Title("Latency percentiles per scenario (ms, log scale, from scheduled send time)");
        plot.YLabel("latency (ms)");
        plot.XLabel("percentile");
        plot.ShowLegend(ScottPlot.Edge.Right);
        plot.SavePng(path, 1500, 850);
    }
}
