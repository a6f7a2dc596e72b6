using ConsentGateway.LoadTests.Bed;
using ConsentGateway.LoadTests.Plan;
using ConsentGateway.LoadTests.Report;

namespace ConsentGateway.LoadTests;

/// <summary>
/// The load-test harness: starts redis-server, SampleApi, the gateway and a plain YARP proxy on
/// loopback, runs the scenarios side by side, writes report.md / report.json / latency.png and
/// stops everything. Exit code 0 when every correctness threshold passed, 1 when one failed,
/// 2 on a usage or start-up error. <c>across-runs</c> instead summarises earlier runs (<see cref="AcrossRuns"/>).
/// </summary>
internal static class LoadTestProgram
{
    public static async Task<int> RunAsync(string[] args, TextWriter log, CancellationToken ct = default)
    {
        if (args.Length > 0 && args[0] == "across-runs")
        {
            return await AcrossRuns.RunAsync(args[1..], log);
        }

        LoadTestOptions options;
        try
        {
            options = LoadTestOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await log.WriteLineAsync(ex.Message);
            return 2;
        }

        var (_, code) = await RunAsync(options, log, ct);
        return code;
    }

    public static async Task<(RunReport? Report, int ExitCode)> RunAsync(LoadTestOptions options, TextWriter log, CancellationToken ct = default)
    {
        // Not Environment.ProcessorCount: under run.sh's `taskset -c 0` that counts only CPU 0.
        if (options.PinProxies && (!OperatingSystem.IsLinux() || File.ReadLines("/proc/cpuinfo").Count(l => l.StartsWith("processor", StringComparison.Ordinal)) < 2))
        {
            await log.WriteLineAsync("--pin-proxies needs Linux with at least 2 CPUs (and taskset, from util-linux)");
            return (null, 2);
        }

        if (options.PinProxies)
        {
            // This generator runs on CPU 0 alone (run.sh's taskset): see TestBed.PinnedMinWorkerThreads.
            ThreadPool.GetMinThreads(out var workers, out var io);
            ThreadPool.SetMinThreads(Math.Max(workers, TestBed.PinnedMinWorkerThreads), io);
        }

        Directory.CreateDirectory(options.OutputDirectory);
        _ = MachineInfo.LoadAverageAtStart; // sampled before anything starts
        TestBed bed;
        try
        {
            bed = await TestBed.StartAsync(options, log);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or FileNotFoundException or System.ComponentModel.Win32Exception)
        {
            await log.WriteLineAsync("start-up failed: " + ex.Message);
            return (null, 2);
        }

        await using (bed)
        {
            var payloads = await Payloads.LoadAsync(bed.Direct, options.Smoke ? [Size.Medium] : [Size.Small, Size.Medium, Size.Large]);
            var report = await new RunPlan(options, bed, payloads, log).ExecuteAsync(ct);
            await ReportWriter.WriteAsync(report, options.OutputDirectory);
            await log.WriteLineAsync($"report: {Path.Combine(options.OutputDirectory, ReportWriter.MarkdownFile)} ({(report.Passed ? "PASSED" : "FAILED: " + string.Join("; ", report.Failures))})");
            return (report, report.Passed ? 0 : 1);
        }
    }
}
