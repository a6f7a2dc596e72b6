using System.Globalization;
using ConsentGateway.LoadTests.Engine;
using ConsentGateway.LoadTests.Report;

namespace ConsentGateway.LoadTests.Plan;

/// <summary>
/// Judges a run's results against the issue's goals: throughput ratios (pooled and per paired round),
/// the p99 added at the fixed rate with its A/A control, and the Redis-down counts.
/// </summary>
internal static class GoalRatios
{
    /// <summary>Adds every goal the run measured to <paramref name="report"/>, from <paramref name="results"/>.</summary>
    /// <param name="rateGiven">The fixed rate was set by --fixed-rate: the p99 goal, judged at half the gateway's capacity, is not judged at it.</param>
    public static void Add(RunReport report, IReadOnlyList<ScenarioResult> results, ScenarioResult yarpFixed, ScenarioResult gwFixed, ScenarioResult yarpAgain, bool rateGiven = false)
    {
        ScenarioResult? Find(string name) => results.FirstOrDefault(r => r.Name == name && r.Requests > 0);

        void Throughput(string name, string size, double goal)
        {
            var gw = Find($"gateway-l1-{name}-{size}");
            var yarp = Find($"yarp-{name}-{size}");
            if (gw is null || yarp is null || yarp.ThroughputRps <= 0)
            {
                return;
            }

            var value = Math.Round(gw.ThroughputRps / yarp.ThroughputRps, 3);
            report.Ratios.Add(new Ratio($"throughput gateway-l1 / yarp, {name.ToUpperInvariant()} {size}", gw.Name, yarp.Name, value, $">= {goal}", value >= goal));

            // The same goal judged per round, as the p99 below: each gateway round against the YARP round
            // just before it, both under the host's load of that moment. With the CPU other processes
            // took in each pair, so a reader can see which rounds a neighbour disturbed.
            if (PairedMedianRatio(gw.RoundThroughputRps, yarp.RoundThroughputRps) is { } paired)
            {
                report.Ratios.Add(new Ratio(
                    string.Create(CultureInfo.InvariantCulture, $"throughput gateway-l1 / yarp, {name.ToUpperInvariant()} {size}, median over {gw.RoundThroughputRps.Count} paired rounds (per-round {string.Join(" / ", Quotients(gw.RoundThroughputRps, yarp.RoundThroughputRps).Select(q => q.ToString("0.00", CultureInfo.InvariantCulture)))}{ForeignCpu(yarp, gw)})"),
                    gw.Name,
                    yarp.Name,
                    Math.Round(paired, 3),
                    $">= {goal}",
                    paired >= goal));
            }
        }

        foreach (var size in new[] { "0.5k", "8k", "256k" })
        {
            Throughput("get", size, size == "256k" ? 0.5 : 0.85);
            Throughput("post", size, size == "256k" ? 0.5 : 0.85);
        }

        // Both sides of the fixed-rate pair must have run (--only can leave one out).
        if (gwFixed.Requests > 0 && yarpFixed.Requests > 0)
        {
            AddP99(report, yarpFixed, gwFixed, yarpAgain, rateGiven);
            if (Find("gateway-l1-get-8k") is { } gwCapacity && Find("yarp-get-8k") is { } yarpCapacity)
            {
                AddTailModel(report, yarpFixed, gwFixed, gwCapacity, yarpCapacity);
            }
        }

        var down = Find("gateway-redis-down-post-8k");
        if (down is not null)
        {
            report.Ratios.Add(new Ratio("Redis down: 5xx responses", down.Name, "-", down.Status5xx, "== 0", down.Status5xx == 0));
            report.Ratios.Add(new Ratio("Redis down: responses with a leaked field", down.Name, "-", down.Leaked, "== 0", down.Leaked == 0));
        }
    }

    /// <summary>
    /// The p99 goal (gateway against the plain-YARP round just before it), pooled and per round, and the
    /// A/A control: the plain-YARP round after the gateway's against the one before it. Two identical sides
    /// differ only by the bed's noise, so where the control differs by more than the goal, a verdict either
    /// way is marked inconclusive rather than read as the gateway's.
    /// </summary>
    private static void AddP99(RunReport report, ScenarioResult yarpFixed, ScenarioResult gwFixed, ScenarioResult yarpAgain, bool rateGiven)
    {
        const double Goal = 1.0;
        const string NotTheGoalsRate = "rate set by --fixed-rate; the goal is judged at half the gateway's capacity";
        double? controlPooled = yarpAgain.Requests > 0 ? Math.Round(yarpAgain.P99Ms - yarpFixed.P99Ms, 3) : null;
        var controlPaired = yarpAgain.Requests > 0 ? PairedMedianDifference(yarpAgain.RoundP99Ms, yarpFixed.RoundP99Ms) : null;

        var added = Math.Round(gwFixed.P99Ms - yarpFixed.P99Ms, 3);
        // A 1 ms goal cannot be judged when plain YARP's own p99 at the same rate is over 10 ms (a busy machine),
        // nor when plain YARP against itself already differs by more than the goal.
        var inconclusive = rateGiven ? NotTheGoalsRate
            : yarpFixed.P99Ms > 10 ? string.Create(CultureInfo.InvariantCulture, $"plain-YARP p99 alone is {yarpFixed.P99Ms:0.0} ms, over 10× the goal")
            : Math.Abs(controlPooled ?? 0) > Goal ? string.Create(CultureInfo.InvariantCulture, $"plain YARP against itself (A/A control) differs by {controlPooled:+0.00;-0.00} ms pooled, more than the goal")
            : null;
        report.Ratios.Add(new Ratio($"p99 added over plain YARP at {gwFixed.OfferedRps:0} req/s ({(rateGiven ? "set by --fixed-rate" : "half gateway capacity")}), GET 8k, all rounds pooled", gwFixed.Name, yarpFixed.Name, added, "<= 1 ms", added <= Goal, inconclusive));

        // The same goal judged per round: each gateway round against the plain-YARP round just before it,
        // so both saw the host's load of that moment; the median of those differences is what one stall
        // of another tenant cannot move, unlike the pooled p99 above (which it can by many ms).
        if (PairedMedianDifference(gwFixed.RoundP99Ms, yarpFixed.RoundP99Ms) is { } paired)
        {
            report.Ratios.Add(new Ratio(
                string.Create(CultureInfo.InvariantCulture, $"p99 added over plain YARP, same rate, median over {gwFixed.RoundP99Ms.Count} paired rounds (per-round differences {SignedList(Differences(gwFixed.RoundP99Ms, yarpFixed.RoundP99Ms))} ms{ForeignCpu(yarpFixed, gwFixed)})"),
                gwFixed.Name,
                yarpFixed.Name,
                Math.Round(paired, 3),
                "<= 1 ms",
                paired <= Goal,
                rateGiven ? NotTheGoalsRate
                : Math.Abs(controlPaired ?? 0) > Goal ? string.Create(CultureInfo.InvariantCulture, $"plain YARP against itself (A/A control) differs by {controlPaired:+0.00;-0.00} ms, median of paired rounds, more than the goal") : null));
        }

        void Control(string name, double value) =>
            report.Ratios.Add(new Ratio(name, yarpAgain.Name, yarpFixed.Name, value, "none: the bed's noise at this rate", Met: true, IsControl: true));

        if (controlPooled is { } pooledControl)
        {
            Control($"A/A control: p99 of plain YARP against itself, same rate ({yarpAgain.Name}, the round after the gateway's, minus {yarpFixed.Name}), all rounds pooled", pooledControl);
        }

        if (controlPaired is { } pairedControl)
        {
            Control(
                string.Create(CultureInfo.InvariantCulture, $"A/A control, same rate, median over {yarpAgain.RoundP99Ms.Count} paired rounds (per-round differences {SignedList(Differences(yarpAgain.RoundP99Ms, yarpFixed.RoundP99Ms))} ms)"),
                Math.Round(pairedControl, 3));
        }
    }

    /// <summary>
    /// What the p99 added would be if it were only the host's stalls draining more slowly behind a
    /// smaller capacity (loadtests/tail-model.py): requests pile up at the rate R during a stall and
    /// drain at the spare capacity C - R, so a proxy of capacity C_x adds about plain YARP's own p99 ×
    /// (C_yarp - C_x) / (C_x - R). Written beside the measured rows, it tells a noisy host (plain YARP's
    /// own p99 up, the prediction with it) from a slower gateway (the capacity gap up).
    /// </summary>
    private static void AddTailModel(RunReport report, ScenarioResult yarpFixed, ScenarioResult gwFixed, ScenarioResult gwCapacity, ScenarioResult yarpCapacity)
    {
        var spare = gwCapacity.ThroughputRps - gwFixed.OfferedRps;
        if (spare <= 0)
        {
            return;
        }

        var factor = (yarpCapacity.ThroughputRps - gwCapacity.ThroughputRps) / spare;
        const string Goal = "none: plain YARP's own p99 at this rate times the capacity gap";
        var name = string.Create(CultureInfo.InvariantCulture, $"p99 added that the capacities predict at {gwFixed.OfferedRps:0} req/s: plain YARP's p99 × (C_yarp - C_gateway) / (C_gateway - R), GET 8k");
        report.Ratios.Add(new Ratio($"{name}, all rounds pooled (tail model, ms)", gwCapacity.Name, yarpCapacity.Name, Math.Round(factor * yarpFixed.P99Ms, 3), Goal, Met: true, IsControl: true));
        if (yarpFixed.RoundP99Ms.Count >= 3)
        {
            report.Ratios.Add(new Ratio($"{name}, plain YARP's median round p99 (tail model, ms)", gwCapacity.Name, yarpCapacity.Name, Math.Round(factor * RoundStatistics.Median(yarpFixed.RoundP99Ms), 3), Goal, Met: true, IsControl: true));
        }
    }

    private static string SignedList(List<double> values) => string.Join(" / ", values.Select(d => d.ToString("+0.00;-0.00", CultureInfo.InvariantCulture)));

    private static List<double> Differences(List<double> a, List<double> b)
    {
        var d = new List<double>();
        for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            d.Add(a[i] - b[i]);
        }

        return d;
    }

    private static List<double> Quotients(List<double> a, List<double> b)
    {
        var q = new List<double>();
        for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            if (b[i] > 0)
            {
                q.Add(a[i] / b[i]);
            }
        }

        return q;
    }

    /// <summary>Median of the per-round ratios a[i] / b[i]; null when there are fewer than 3 pairs.</summary>
    internal static double? PairedMedianRatio(List<double> a, List<double> b) => Median(Quotients(a, b));

    /// <summary>"; other processes' CPU 1/3/…% per pair": the larger of the two rounds' shares; empty when not measured.</summary>
    private static string ForeignCpu(ScenarioResult first, ScenarioResult second)
    {
        var n = Math.Min(first.RoundForeignCpu.Count, second.RoundForeignCpu.Count);
        if (n == 0)
        {
            return "";
        }

        var shares = Enumerable.Range(0, n).Select(i => (Math.Max(first.RoundForeignCpu[i], second.RoundForeignCpu[i]) * 100).ToString("0", CultureInfo.InvariantCulture));
        return $"; CPU used outside the bed, per pair: {string.Join(" / ", shares)} %";
    }

    /// <summary>A paired median needs at least 3 pairs: with fewer, one disturbed round decides it.</summary>
    private static double? Median(List<double> values) => values.Count < 3 ? null : RoundStatistics.Median(values);

    /// <summary>Median of the per-round differences a[i] - b[i]; null when there are fewer than 3 pairs.</summary>
    internal static double? PairedMedianDifference(List<double> a, List<double> b) => Median(Differences(a, b));
}
