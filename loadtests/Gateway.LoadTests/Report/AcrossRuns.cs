using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ConsentGateway.LoadTests.Report;

/// <summary>
/// One ratio of the reports, as each run measured it, and what the runs say together.
/// </summary>
internal sealed record RatioAcrossRuns(string Name, string Goal, bool IsControl, IReadOnlyList<double?> Values)
{
    public IReadOnlyList<double> Measured { get; } = [.. Values.Where(v => v.HasValue).Select(v => v!.Value)];

    public double Mean => Measured.Count == 0 ? double.NaN : Measured.Average();

    /// <summary>Sample standard deviation (n − 1); NaN with fewer than two runs.</summary>
    public double StandardDeviation
    {
        get
        {
            if (Measured.Count < 2)
            {
                return double.NaN;
            }

            var mean = Mean;
            return Math.Sqrt(Measured.Sum(v => (v - mean) * (v - mean)) / (Measured.Count - 1));
        }
    }

    /// <summary>The two-sided 95 % confidence interval of the mean (Student's t); NaN with fewer than two runs.</summary>
    public (double Low, double High) Interval
    {
        get
        {
            if (Measured.Count < 2)
            {
                return (double.NaN, double.NaN);
            }

            var half = AcrossRuns.StudentT975(Measured.Count - 1) * StandardDeviation / Math.Sqrt(Measured.Count);
            return (Mean - half, Mean + half);
        }
    }

    /// <summary>How many single runs met the goal (null for controls and rows without a numeric goal).</summary>
    public int? RunsMeeting => AcrossRuns.TryParseGoal(Goal, out var atLeast, out var limit) && !IsControl
        ? Measured.Count(v => atLeast ? v >= limit : v <= limit)
        : null;

    /// <summary>
    /// Met when the whole interval is on the goal's side, missed when it is wholly on the other side,
    /// otherwise undecided: these runs cannot tell the mean from the goal.
    /// </summary>
    public string Verdict
    {
        get
        {
            if (IsControl || !AcrossRuns.TryParseGoal(Goal, out var atLeast, out var limit))
            {
                return "control";
            }

            var (low, high) = Interval;
            if (double.IsNaN(low))
            {
                return "undecided (one run)";
            }

            var met = atLeast ? low >= limit : high <= limit;
            var missed = atLeast ? high < limit : low > limit;
            return met ? "met" : missed ? "missed" : "undecided";
        }
    }
}

/// <summary>
/// Summarises several runs' report.json files: per ratio, each run's value, the mean, its 95 %
/// confidence interval and how many runs met the goal. A single run on a shared 2-core machine is
/// a noisy estimate of a ratio (its paired rounds already say how noisy); independent runs of one
/// build estimate the ratio itself, and the interval says whether they can tell it from its goal.
/// The runs must be of one build to mean anything: each run's build is shown, and a mix is flagged.
/// </summary>
internal static partial class AcrossRuns
{
    public const string Usage = "usage: across-runs --out FILE [--assume-build COMMIT] RUN_DIRECTORY [RUN_DIRECTORY ...] (each holding a report.json)";

    /// <summary>t(0.975, df): the two-sided 95 % quantile of Student's t; beyond 30 degrees of freedom, 30's (conservative).</summary>
    internal static double StudentT975(int degreesOfFreedom)
    {
        ReadOnlySpan<double> t =
        [
            12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
            2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
            2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
        ];
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        return t[Math.Min(degreesOfFreedom, t.Length) - 1];
    }

    internal static bool TryParseGoal(string goal, out bool atLeast, out double limit)
    {
        var m = GoalPattern().Match(goal);
        atLeast = m.Success && m.Groups[1].Value == ">=";
        limit = m.Success ? double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : double.NaN;
        return m.Success;
    }

    /// <summary>
    /// A ratio's name without what differs from run to run although it is the same comparison: the
    /// per-round figures and the fixed rate, which each run derives from its own measured capacity.
    /// </summary>
    internal static string Key(string name) =>
        RatePattern().Replace(PerRoundPattern().Replace(name, ""), "at R req/s");

    public static async Task<int> RunAsync(string[] args, TextWriter log)
    {
        string? output = null;
        string? assumedBuild = null;
        var directories = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--out" && i + 1 < args.Length)
            {
                output = args[++i];
            }
            else if (args[i] == "--assume-build" && i + 1 < args.Length)
            {
                assumedBuild = args[++i];
            }
            else
            {
                directories.Add(args[i]);
            }
        }

        if (output is null || directories.Count == 0)
        {
            await log.WriteLineAsync(Usage);
            return 2;
        }

        var runs = new List<RunSummary>();
        foreach (var directory in directories)
        {
            var path = Path.Combine(directory, ReportWriter.JsonFile);
            if (!File.Exists(path))
            {
                await log.WriteLineAsync($"no {ReportWriter.JsonFile} in {directory}");
                return 2;
            }

            var run = RunSummary.Read(directory, await File.ReadAllTextAsync(path));

            // Reports written before the build was recorded: the caller may say which it was, and the table says it was given.
            runs.Add(run.Source == BuildInfo.Unknown && assumedBuild is not null ? run with { Source = assumedBuild + " (given, not recorded)" } : run);
        }

        await File.WriteAllTextAsync(output, Markdown(runs, Ratios(runs)));
        await log.WriteLineAsync($"across {runs.Count} runs: {output}");
        return 0;
    }

    /// <summary>Every ratio any run has, in first-seen order, with each run's value (null where a run lacks it).</summary>
    internal static List<RatioAcrossRuns> Ratios(IReadOnlyList<RunSummary> runs)
    {
        var order = new List<(string Key, string Goal, bool IsControl)>();
        foreach (var run in runs)
        {
            foreach (var ratio in run.Ratios)
            {
                var key = Key(ratio.Name);
                if (!order.Exists(o => o.Key == key))
                {
                    order.Add((key, ratio.Goal, ratio.IsControl));
                }
            }
        }

        return
        [
            .. order.Select(o => new RatioAcrossRuns(o.Key, o.Goal, o.IsControl,
                [.. runs.Select(r => r.Ratios.Find(x => Key(x.Name) == o.Key) is { } found ? found.Value : (double?)null)])),
        ];
    }

    internal static string Markdown(IReadOnlyList<RunSummary> runs, IReadOnlyList<RatioAcrossRuns> ratios)
    {
        static string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("0.000", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        void L(string line = "") => sb.Append(line).Append('\n');
        L($"# Across {runs.Count} runs");
        L();
        L("Each ratio as each run measured it (gateway and plain YARP side by side in that run), then the mean over the runs, " +
          "its 95 % confidence interval (Student's t over the runs' values) and how many single runs met the goal. " +
          "**met**: the whole interval is on the goal's side; **missed**: wholly on the other; **undecided**: these runs cannot tell the mean from the goal.");
        L();
        var sources = runs.Select(r => r.Source.Split(' ')[0]).Distinct().ToList();
        if (sources.Count > 1 || sources.Contains(BuildInfo.Unknown) || runs.Any(r => r.Source.Contains("uncommitted", StringComparison.Ordinal)))
        {
            L($"**Warning: these runs are not all of one recorded build ({string.Join(", ", sources)}).** A mean over different builds mixes their ratios.");
            L();
        }

        L("| run | started (UTC) | build (`src/` at) | command |");
        L("| --- | --- | --- | --- |");
        for (var i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            L($"| {i + 1}: `{r.Directory}` | {r.Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} | {r.Source} | `{r.Command}` |");
        }

        L();
        L("| ratio | goal | runs | per run | mean | sd | 95 % CI of the mean | runs meeting the goal | verdict |");
        L("| --- | --- | ---: | --- | ---: | ---: | --- | ---: | --- |");
        foreach (var ratio in ratios)
        {
            var (low, high) = ratio.Interval;
            var perRun = string.Join(" / ", ratio.Values.Select(v => v.HasValue ? F(v.Value) : "–"));
            var meeting = ratio.RunsMeeting is { } n ? $"{n} of {ratio.Measured.Count}" : "";
            var verdict = ratio.Verdict is "met" or "missed" ? $"**{ratio.Verdict}**" : ratio.Verdict;
            L($"| {ratio.Name} | {ratio.Goal} | {ratio.Measured.Count} | {perRun} | {F(ratio.Mean)} | {F(ratio.StandardDeviation)} | {F(low)} to {F(high)} | {meeting} | {verdict} |");
        }

        return sb.ToString();
    }

    [GeneratedRegex(@"^\s*(>=|<=)\s*([0-9]+(?:\.[0-9]+)?)")]
    private static partial Regex GoalPattern();

    [GeneratedRegex(@"\s*\(per-round[^)]*\)")]
    private static partial Regex PerRoundPattern();

    [GeneratedRegex(@"at [0-9]+ req/s")]
    private static partial Regex RatePattern();
}

/// <summary>What <see cref="AcrossRuns"/> reads from one run's report.json.</summary>
internal sealed record RunSummary(string Directory, DateTimeOffset Started, string Command, string Source, List<Ratio> Ratios)
{
    public static RunSummary Read(string directory, string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var ratios = new List<Ratio>();
        foreach (var r in root.GetProperty(nameof(RunReport.Ratios)).EnumerateArray())
        {
            ratios.Add(new Ratio(
                r.GetProperty(nameof(Ratio.Name)).GetString()!,
                r.GetProperty(nameof(Ratio.Numerator)).GetString()!,
                r.GetProperty(nameof(Ratio.Denominator)).GetString()!,
                r.GetProperty(nameof(Ratio.Value)).GetDouble(),
                r.GetProperty(nameof(Ratio.Goal)).GetString()!,
                r.GetProperty(nameof(Ratio.Met)).GetBoolean(),
                IsControl: r.TryGetProperty(nameof(Ratio.IsControl), out var control) && control.GetBoolean()));
        }

        var source = root.TryGetProperty(nameof(RunReport.Build), out var build) && build.ValueKind == JsonValueKind.Object
            ? build.GetProperty(nameof(BuildInfo.Source)).GetString()!
            : BuildInfo.Unknown;
        return new RunSummary(directory, root.GetProperty(nameof(RunReport.StartedUtc)).GetDateTimeOffset(), root.GetProperty(nameof(RunReport.Command)).GetString()!, source, ratios);
    }
}
