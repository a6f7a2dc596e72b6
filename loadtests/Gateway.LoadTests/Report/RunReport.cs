using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using ConsentGateway.LoadTests.Engine;

namespace ConsentGateway.LoadTests.Report;

/// <summary>A comparison the issue asks for, with its goal.</summary>
/// <param name="Inconclusive">why the value cannot judge the goal (noise), or null.</param>
/// <param name="IsControl">a measurement of the bed itself (an A/A comparison) shown beside the goals, judged against none.</param>
internal sealed record Ratio(string Name, string Numerator, string Denominator, double Value, string Goal, bool Met, string? Inconclusive = null, bool IsControl = false);

/// <summary>The whole run: machine, scenarios, ratios, wrk cross-check, verdict.</summary>
internal sealed class RunReport
{
    public DateTimeOffset StartedUtc { get; init; }

    public double WallSeconds { get; init; }

    public required string Command { get; init; }

    public bool Smoke { get; init; }

    public required string Settings { get; init; }

    public required MachineInfo Machine { get; init; }

    /// <summary>What was measured; null in reports written before it was recorded.</summary>
    public BuildInfo? Build { get; init; }

    public required List<ScenarioResult> Scenarios { get; init; }

    public List<Ratio> Ratios { get; } = [];

    public WrkResult? Wrk { get; init; }

    public ScenarioResult? WrkCounterpart { get; init; }

    public bool Passed { get; private set; }

    public List<string> Failures { get; } = [];

    public List<string> GoalsMissed { get; } = [];

    public void Evaluate(bool enforceGoals)
    {
        foreach (var s in Scenarios)
        {
            foreach (var t in s.Thresholds.Where(t => !t.Passed))
            {
                var line = string.Create(CultureInfo.InvariantCulture, $"{s.Name}: {t.Name} {t.Actual} (required {t.Op} {t.Limit})");
                (t.FailsRun ? Failures : GoalsMissed).Add(line);
            }
        }

        foreach (var r in Ratios.Where(r => !r.IsControl && (!r.Met || r.Inconclusive is not null)))
        {
            var line = string.Create(CultureInfo.InvariantCulture, $"{r.Name}: {r.Value} (goal {r.Goal})") + (r.Inconclusive is null ? "" : " inconclusive: " + r.Inconclusive);
            if (enforceGoals || r.Name.StartsWith("Redis down", StringComparison.Ordinal))
            {
                Failures.Add(line);
            }
            else
            {
                GoalsMissed.Add(line);
            }
        }

        Passed = Failures.Count == 0;
    }
}

/// <summary>The machine the run ran on.</summary>
internal sealed record MachineInfo(int Nproc, string CpuModel, string Memory, string Os, string Dotnet, string Redis, string Wrk, string Date, string LoadAverage)
{
    public static string LoadAverageAtStart { get; } = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";

    public static MachineInfo Collect()
    {
        var cpu = ReadField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        var mem = ReadField("/proc/meminfo", "MemTotal") ?? "?";
        if (mem.EndsWith(" kB", StringComparison.Ordinal) && long.TryParse(mem[..^3].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb))
        {
            mem = string.Create(CultureInfo.InvariantCulture, $"{kb / 1048576.0:0.0} GiB");
        }

        return new MachineInfo(
            Environment.ProcessorCount,
            cpu,
            mem,
            RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription,
            FirstLine("redis-server", "--version"),
            FirstLine("wrk", "-v"),
            DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture),
            LoadAverageAtStart);
    }

    private static string? ReadField(string file, string name)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith(name, StringComparison.Ordinal))
            {
                return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }

        return null;
    }

    private static string FirstLine(string file, string arg)
    {
        try
        {
            var info = new ProcessStartInfo(file, arg) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(info)!;
            var text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit(5000);
            return text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "?";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "not installed";
        }
    }
}

/// <summary>
/// The commit the measured binaries were built from: runs are only comparable across one build, and a
/// run's date does not say which one it was. <paramref name="Source"/> is the last commit that touched
/// <c>src/</c> (what the gateway, SampleApi and plain YARP are built from), with a note when src/ had
/// uncommitted changes; <paramref name="Head"/> the checkout's HEAD.
/// </summary>
internal sealed record BuildInfo(string Source, string Head)
{
    public const string Unknown = "unknown";

    public static BuildInfo Collect(string repoRoot)
    {
        var source = Git(repoRoot, "log -1 --format=%h -- src");
        var changes = Git(repoRoot, "status --porcelain -- src");
        if (source != Unknown && changes != Unknown && changes.Length > 0)
        {
            source += " with uncommitted changes in src/";
        }

        return new BuildInfo(source, Git(repoRoot, "rev-parse --short HEAD"));
    }

    private static string Git(string repoRoot, string arguments)
    {
        try
        {
            var info = new ProcessStartInfo("git", $"-C \"{repoRoot}\" {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(info)!;
            var text = p.StandardOutput.ReadToEnd().Trim();
            p.StandardError.ReadToEnd();
            p.WaitForExit(5000);
            return p.ExitCode == 0 ? text : Unknown;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return Unknown;
        }
    }
}
