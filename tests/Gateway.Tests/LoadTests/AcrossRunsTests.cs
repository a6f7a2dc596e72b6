using System.Globalization;
using System.Text.Json.Nodes;
using ConsentGateway.LoadTests;
using ConsentGateway.LoadTests.Report;

namespace ConsentGateway.Tests.LoadTests;

/// <summary>
/// The across-runs summary: per ratio, each run's value, mean, 95 % interval and verdict, computed
/// from report.json files laid out as the harness writes them.
/// </summary>
public sealed class AcrossRunsTests : IDisposable
{
    private const string PostPaired = "throughput gateway-l1 / yarp, POST 8k, median over 48 paired rounds";
    private readonly string _root = Directory.CreateTempSubdirectory("across-runs-test-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(1, 12.706)]
    [InlineData(4, 2.776)]
    [InlineData(9, 2.262)]
    [InlineData(30, 2.042)]
    [InlineData(200, 2.042)]
    public void Student_t_is_the_two_sided_95_percent_quantile_and_conservative_past_30(int degreesOfFreedom, double expected) =>
        Assert.Equal(expected, AcrossRuns.StudentT975(degreesOfFreedom));

    [Theory]
    // Mean 0.87, sd 0.01, three runs: 0.87 ± 4.303 × 0.01 / √3 = 0.845 to 0.895 spans 0.85.
    [InlineData(">= 0.85", new[] { 0.86, 0.87, 0.88 }, "undecided", 3)]
    [InlineData(">= 0.85", new[] { 0.90, 0.91, 0.92 }, "met", 3)]
    [InlineData(">= 0.85", new[] { 0.80, 0.81, 0.82 }, "missed", 0)]
    [InlineData("<= 1 ms", new[] { 0.40, 0.50, 0.60 }, "met", 3)]
    [InlineData("<= 1 ms", new[] { 0.60, 1.10, 0.90 }, "undecided", 2)]
    [InlineData("<= 1 ms", new[] { 1.50, 1.60, 1.70 }, "missed", 0)]
    [InlineData(">= 0.85", new[] { 0.95 }, "undecided (one run)", 1)]
    public void Verdict_needs_the_whole_interval_on_one_side_of_the_goal(string goal, double[] values, string verdict, int meeting)
    {
        var ratio = new RatioAcrossRuns("r", goal, IsControl: false, [.. values.Select(v => (double?)v)]);
        Assert.Equal(verdict, ratio.Verdict);
        Assert.Equal(meeting, ratio.RunsMeeting);
    }

    [Fact]
    public void Mean_deviation_and_interval_follow_their_definitions()
    {
        var ratio = new RatioAcrossRuns("r", ">= 0.85", IsControl: false, [0.86, null, 0.87, 0.88]);
        Assert.Equal([0.86, 0.87, 0.88], ratio.Measured);
        Assert.Equal(0.87, ratio.Mean, 12);
        Assert.Equal(0.01, ratio.StandardDeviation, 12);
        var half = 4.303 * 0.01 / Math.Sqrt(3);
        Assert.Equal(0.87 - half, ratio.Interval.Low, 12);
        Assert.Equal(0.87 + half, ratio.Interval.High, 12);
    }

    [Fact]
    public void Controls_are_summarised_but_never_judged()
    {
        var ratio = new RatioAcrossRuns("A/A control", "none: the bed's noise at this rate", IsControl: true, [0.1, -0.2, 0.05]);
        Assert.Equal("control", ratio.Verdict);
        Assert.Null(ratio.RunsMeeting);
    }

    [Fact]
    public void The_same_comparison_is_one_row_whatever_its_rate_and_per_round_figures()
    {
        Assert.Equal(
            AcrossRuns.Key("p99 added over plain YARP at 4621 req/s (half gateway capacity), GET 8k, all rounds pooled"),
            AcrossRuns.Key("p99 added over plain YARP at 4968 req/s (half gateway capacity), GET 8k, all rounds pooled"));
        Assert.Equal(PostPaired, AcrossRuns.Key(PostPaired + " (per-round 0.90 / 0.87; CPU used outside the bed, per pair: 1 / 0 %)"));

        // The A/A control's own parenthesis says which scenarios it compares: it stays.
        const string control = "A/A control: p99 of plain YARP against itself, same rate (yarp-get-8k-fixed-again, the round after the gateway's, minus yarp-get-8k-fixed), all rounds pooled";
        Assert.Equal(control, AcrossRuns.Key(control));
    }

    [Fact]
    public async Task Summary_file_lists_each_run_and_each_ratio_with_its_verdict()
    {
        var first = WriteRun("long1", "abc1234", 0.90, 4621, 0.80);
        var second = WriteRun("long2", "abc1234", 0.91, 4968, 0.60);
        var third = WriteRun("long3", "abc1234", 0.92, 4700, null);
        var output = Path.Combine(_root, "across.md");
        using var log = new StringWriter();

        var code = await LoadTestProgram.RunAsync(["across-runs", "--out", output, first, second, third], log);

        Assert.Equal(0, code);
        var markdown = await File.ReadAllTextAsync(output);
        Assert.Contains("# Across 3 runs", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("Warning", markdown, StringComparison.Ordinal);
        Assert.Contains($"| 1: `{first}` | 2026-11-30 10:00 | abc1234 |", markdown, StringComparison.Ordinal);
        Assert.Contains($"| {PostPaired} | >= 0.85 | 3 | 0.900 / 0.910 / 0.920 | 0.910 | 0.010 | 0.885 to 0.935 | 3 of 3 | **met** |", markdown, StringComparison.Ordinal);

        // The third run has no p99 row: it shows as a gap and two runs are summarised.
        Assert.Contains("| p99 added over plain YARP at R req/s (half gateway capacity), GET 8k, all rounds pooled | <= 1 ms | 2 | 0.800 / 0.600 / – | 0.700 |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_of_different_or_unrecorded_builds_are_flagged_and_a_given_build_is_marked_as_given()
    {
        var recorded = WriteRun("long1", "abc1234", 0.90, 4621, 0.8);
        var unrecorded = WriteRun("long2", null, 0.91, 4968, 0.6);
        var output = Path.Combine(_root, "across.md");
        using var log = new StringWriter();

        Assert.Equal(0, await LoadTestProgram.RunAsync(["across-runs", "--out", output, recorded, unrecorded], log));
        Assert.Contains("**Warning: these runs are not all of one recorded build (abc1234, unknown).**", await File.ReadAllTextAsync(output), StringComparison.Ordinal);

        Assert.Equal(0, await LoadTestProgram.RunAsync(["across-runs", "--out", output, "--assume-build", "abc1234", recorded, unrecorded], log));
        var markdown = await File.ReadAllTextAsync(output);
        Assert.DoesNotContain("Warning", markdown, StringComparison.Ordinal);
        Assert.Contains("| abc1234 (given, not recorded) |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_reports_and_missing_arguments_are_usage_errors()
    {
        using var log = new StringWriter();
        Assert.Equal(2, await LoadTestProgram.RunAsync(["across-runs", "--out", Path.Combine(_root, "x.md")], log));
        Assert.Equal(2, await LoadTestProgram.RunAsync(["across-runs", "--out", Path.Combine(_root, "x.md"), Path.Combine(_root, "nothing-here")], log));
        Assert.Contains("no report.json in", log.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "x.md")));
    }

    /// <summary>A report.json with the fields the summary reads, in the harness's layout.</summary>
    private string WriteRun(string name, string? source, double postPaired, int rate, double? p99Pooled)
    {
        var directory = Path.Combine(_root, name);
        Directory.CreateDirectory(directory);
        var ratios = new JsonArray
        {
            Ratio(PostPaired + " (per-round 0.88 / 0.93; CPU used outside the bed, per pair: 0 / 1 %)", postPaired, ">= 0.85", control: false),
            Ratio("A/A control, same rate, median over 48 paired rounds (per-round differences +0.1 / -0.1 ms)", 0.01, "none: the bed's noise at this rate", control: true),
        };
        if (p99Pooled is { } p99)
        {
            ratios.Add(Ratio(string.Create(CultureInfo.InvariantCulture, $"p99 added over plain YARP at {rate} req/s (half gateway capacity), GET 8k, all rounds pooled"), p99, "<= 1 ms", control: false));
        }

        var report = new JsonObject
        {
            ["StartedUtc"] = "2026-11-30T10:00:03.5+00:00",
            ["Command"] = $"loadtests/run.sh --out loadtests/results/{name}",
            ["Ratios"] = ratios,
        };
        if (source is not null)
        {
            report["Build"] = new JsonObject { ["Source"] = source, ["Head"] = "fff0000" };
        }

        File.WriteAllText(Path.Combine(directory, ReportWriter.JsonFile), report.ToJsonString());
        return directory;
    }

    private static JsonObject Ratio(string name, double value, string goal, bool control) => new()
    {
        ["Name"] = name,
        ["Numerator"] = "gateway-l1-post-8k",
        ["Denominator"] = "yarp-post-8k",
        ["Value"] = value,
        ["Goal"] = goal,
        ["Met"] = true,
        ["Inconclusive"] = null,
        ["IsControl"] = control,
    };
}
