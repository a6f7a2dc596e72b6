using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace ConsentGateway.Benchmarks;

/// <summary>
/// Short job for a noisy shared 2-core box: 1 launch, 3 warm-up and 15 measured iterations; memory
/// diagnoser on. In-process (the host must be a Release build): on the shared box BDN's generated
/// project timed out in its build step.
/// </summary>
internal sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(15).WithId("Short-3w15i"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(new ThroughputColumn());

        // On a shared host the mean carries other tenants' bursts; the minimum is the run least disturbed.
        AddColumn(StatisticColumn.Min, StatisticColumn.Median);
    }
}
