using ConsentGateway.LoadTests.Engine;

namespace ConsentGateway.Tests.LoadTests;

/// <summary>The CPU other processes used during a load-test round, from /proc.</summary>
public sealed class HostCpuTests
{
    [Fact]
    public void The_aggregate_cpu_line_counts_steal_as_busy_and_idle_and_iowait_as_not()
    {
        // user nice system idle iowait irq softirq steal guest guest_nice
        var (busy, total) = HostCpu.ParseCpuLine("cpu  100 5 40 800 10 2 3 7 0 0");

        Assert.Equal(100 + 5 + 40 + 2 + 3 + 7, busy);
        Assert.Equal(busy + 800 + 10, total);
    }

    [Fact]
    public void A_per_cpu_line_is_refused()
    {
        Assert.Throws<FormatException>(() => HostCpu.ParseCpuLine("cpu0 100 5 40 800 10 2 3 7 0 0"));
    }

    [Fact]
    public void Process_ticks_are_utime_plus_stime_even_when_the_name_holds_spaces_and_parentheses()
    {
        const string stat = "4242 (.NET TP (x) Worker) S 1 4242 4242 0 -1 4194560 500 0 0 0 1234 567 0 0 20 0 30 0 100 0 0";

        Assert.Equal(1234 + 567, HostCpu.ParseProcessStat(stat));
    }

    [Fact]
    public void Foreign_share_is_the_busy_time_the_bed_did_not_use()
    {
        var before = new HostCpu.Sample(1_000, 10_000, Bed((1, "gateway", 100), (2, "sampleapi", 200)));
        var after = new HostCpu.Sample(1_000 + 800, 10_000 + 1_000, Bed((1, "gateway", 100 + 500), (2, "sampleapi", 200 + 200)));

        Assert.Equal(0.1, HostCpu.ForeignShare(before, after)!.Value, 6); // 800 busy, 700 ours, of 1,000
        Assert.Equal(new Dictionary<string, long> { ["gateway"] = 500, ["sampleapi"] = 200 }, HostCpu.ByProcess(before, after));
    }

    [Fact]
    public void A_process_that_exited_in_the_round_counts_as_foreign_rather_than_lowering_the_share()
    {
        var before = new HostCpu.Sample(0, 0, Bed((1, "gateway", 100), (2, "redis-server", 5_000)));
        var after = new HostCpu.Sample(600, 1_000, Bed((1, "gateway", 500), (3, "redis-server", 50)));

        Assert.Equal(0.2, HostCpu.ForeignShare(before, after)!.Value, 6); // redis restarted as pid 3: 600 - 400 of 1,000
        Assert.Equal(new Dictionary<string, long> { ["gateway"] = 400 }, HostCpu.ByProcess(before, after));
    }

    [Fact]
    public void No_share_without_two_samples_or_elapsed_time()
    {
        var sample = new HostCpu.Sample(10, 100, Bed());

        Assert.Null(HostCpu.ForeignShare(null, sample));
        Assert.Null(HostCpu.ForeignShare(sample, null));
        Assert.Null(HostCpu.ForeignShare(sample, sample));
    }

    [Fact]
    public void On_linux_a_live_reading_includes_this_process()
    {
        var probe = new HostCpu(() => []);

        var sample = probe.TryRead();

        if (OperatingSystem.IsLinux())
        {
            Assert.NotNull(sample);
            Assert.Equal(HostCpu.LoadGenerator, sample.Bed[Environment.ProcessId].Name);
            Assert.True(sample.Total >= sample.Busy);
        }
        else
        {
            Assert.Null(sample);
        }
    }

    private static Dictionary<int, HostCpu.ProcessTicks> Bed(params (int Id, string Name, long Ticks)[] processes) =>
        processes.ToDictionary(p => p.Id, p => new HostCpu.ProcessTicks(p.Name, p.Ticks));
}
