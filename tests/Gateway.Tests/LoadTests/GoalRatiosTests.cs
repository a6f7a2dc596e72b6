using ConsentGateway.LoadTests.Engine;
using ConsentGateway.LoadTests.Plan;
using ConsentGateway.LoadTests.Report;

namespace ConsentGateway.Tests.LoadTests;

/// <summary>The p99 goal beside its A/A control: plain YARP at the same rate, the round after the gateway's.</summary>
public sealed class GoalRatiosTests
{
    [Fact]
    public void A_quiet_control_leaves_the_p99_verdict_as_measured()
    {
        var report = Judge(
            yarp: Fixed("yarp-get-8k-fixed", 3.0, [3.0, 3.1, 2.9, 3.0]),
            gateway: Fixed("gateway-l1-get-8k-fixed", 3.4, [3.4, 3.5, 3.3, 3.6]),
            again: Fixed("yarp-get-8k-fixed-again", 3.1, [3.1, 3.0, 3.0, 3.2]));

        var pooled = Single(report, "p99 added over plain YARP at");
        Assert.Equal(0.4, pooled.Value, 6);
        Assert.True(pooled.Met);
        Assert.Null(pooled.Inconclusive);
        var paired = Single(report, "p99 added over plain YARP, same rate");
        Assert.Equal(0.4, paired.Value, 6); // differences 0.4, 0.4, 0.4, 0.6
        Assert.Null(paired.Inconclusive);

        var pooledControl = Single(report, "A/A control: p99 of plain YARP against itself");
        Assert.True(pooledControl.IsControl);
        Assert.Equal(0.1, pooledControl.Value, 6); // 3.1 - 3.0
        var pairedControl = Single(report, "A/A control, same rate, median");
        Assert.True(pairedControl.IsControl);
        Assert.Equal(0.1, pairedControl.Value, 6); // differences 0.1, -0.1, 0.1, 0.2 → sorted -0.1, 0.1, 0.1, 0.2
        report.Evaluate(enforceGoals: true);
        Assert.True(report.Passed);
    }

    [Fact]
    public void A_control_that_differs_by_more_than_the_goal_makes_both_p99_rows_inconclusive()
    {
        // Plain YARP against itself moves by 2–4 ms: a 1 ms goal is below what this bed can resolve.
        var report = Judge(
            yarp: Fixed("yarp-get-8k-fixed", 4.0, [4.0, 3.0, 5.0, 4.0]),
            gateway: Fixed("gateway-l1-get-8k-fixed", 4.5, [4.5, 3.4, 5.2, 4.1]),
            again: Fixed("yarp-get-8k-fixed-again", 7.0, [7.0, 6.0, 7.5, 6.5]));

        var pooled = Single(report, "p99 added over plain YARP at");
        Assert.True(pooled.Met); // +0.5 ms, but...
        Assert.Contains("A/A control", pooled.Inconclusive, StringComparison.Ordinal);
        var paired = Single(report, "p99 added over plain YARP, same rate");
        Assert.Contains("+2.75 ms", paired.Inconclusive, StringComparison.Ordinal); // control differences 3, 3, 2.5, 2.5

        // An inconclusive goal is listed with the missed ones; the control itself never is.
        report.Evaluate(enforceGoals: false);
        Assert.Equal(2, report.GoalsMissed.Count);
        Assert.DoesNotContain(report.GoalsMissed, line => line.StartsWith("A/A", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_the_control_scenario_the_p99_rows_stand_alone()
    {
        var skipped = new ScenarioResult { Name = "yarp-get-8k-fixed-again", Target = "yarp", Description = "skipped (--only)", Payload = "GET 8 KB", Load = "open" };
        var report = Judge(
            yarp: Fixed("yarp-get-8k-fixed", 3.0, [3.0, 3.1, 2.9]),
            gateway: Fixed("gateway-l1-get-8k-fixed", 5.0, [5.0, 5.1, 4.9]),
            again: skipped);

        Assert.False(Single(report, "p99 added over plain YARP at").Met);
        Assert.Null(Single(report, "p99 added over plain YARP at").Inconclusive);
        Assert.DoesNotContain(report.Ratios, r => r.IsControl);
    }

    [Fact]
    public void At_a_rate_set_by_hand_the_p99_rows_are_measured_but_not_judged()
    {
        // --fixed-rate: the same comparison, away from the goal's rate (half the gateway's capacity).
        var report = Judge(
            yarp: Fixed("yarp-get-8k-fixed", 3.0, [3.0, 3.1, 2.9, 3.0]),
            gateway: Fixed("gateway-l1-get-8k-fixed", 3.4, [3.4, 3.5, 3.3, 3.6]),
            again: Fixed("yarp-get-8k-fixed-again", 3.1, [3.1, 3.0, 3.0, 3.2]),
            rateGiven: true);

        var pooled = Single(report, "p99 added over plain YARP at 3000 req/s (set by --fixed-rate)");
        Assert.Equal(0.4, pooled.Value, 6);
        Assert.Contains("--fixed-rate", pooled.Inconclusive, StringComparison.Ordinal);
        Assert.Contains("--fixed-rate", Single(report, "p99 added over plain YARP, same rate").Inconclusive, StringComparison.Ordinal);
        Assert.Equal(0.1, Single(report, "A/A control: p99 of plain YARP against itself").Value, 6);
    }

    [Fact]
    public void With_both_capacities_the_report_gives_what_they_and_plain_YARPs_own_p99_predict()
    {
        // Plain YARP 7,000 req/s, the gateway 6,000, the rate 3,000: the gateway has 3,000 to spare, plain YARP
        // 4,000, so a pile-up drains 4/3 as long behind the gateway: it adds a third of plain YARP's p99.
        var yarp = Fixed("yarp-get-8k-fixed", 4.5, [3.0, 3.3, 2.7, 3.0, 12.0]);
        var gateway = Fixed("gateway-l1-get-8k-fixed", 5.0, [3.5, 3.6, 3.1, 3.4, 13.0]);
        var again = Fixed("yarp-get-8k-fixed-again", 4.4, [3.1, 3.0, 3.0, 3.2, 11.0]);
        var yarpCapacity = Capacity("yarp-get-8k", 7000);
        var gatewayCapacity = Capacity("gateway-l1-get-8k", 6000);
        var report = new RunReport
        {
            Command = "test",
            Settings = "test",
            Machine = new MachineInfo(2, "cpu", "mem", "os", "dotnet", "redis", "wrk", "date", "0"),
            Scenarios = [yarpCapacity, gatewayCapacity, yarp, gateway, again],
        };
        GoalRatios.Add(report, report.Scenarios, yarp, gateway, again);

        var pooled = Assert.Single(report.Ratios, r => r.Name.StartsWith("p99 added that the capacities predict at 3000 req/s", StringComparison.Ordinal) && r.Name.EndsWith("all rounds pooled (tail model, ms)", StringComparison.Ordinal));
        Assert.Equal(1.5, pooled.Value, 6); // 4.5 / 3
        Assert.True(pooled.IsControl);
        var paired = Assert.Single(report.Ratios, r => r.Name.EndsWith("plain YARP's median round p99 (tail model, ms)", StringComparison.Ordinal));
        Assert.Equal(1.0, paired.Value, 6); // median 3.0, / 3
        Assert.True(paired.IsControl);

        // The rate varies by run and is folded away, so runs line the prediction up beside the measured rows.
        Assert.Equal("p99 added that the capacities predict at R req/s: plain YARP's p99 × (C_yarp - C_gateway) / (C_gateway - R), GET 8k, all rounds pooled (tail model, ms)", AcrossRuns.Key(pooled.Name));
    }

    /// <summary>A closed-model scenario: only its throughput counts here.</summary>
    private static ScenarioResult Capacity(string name, double rps)
    {
        var scenario = Fixed(name, 0, []);
        scenario.ThroughputRps = rps;
        scenario.OfferedRps = 0;
        return scenario;
    }

    private static RunReport Judge(ScenarioResult yarp, ScenarioResult gateway, ScenarioResult again, bool rateGiven = false)
    {
        var report = new RunReport
        {
            Command = "test",
            Settings = "test",
            Machine = new MachineInfo(2, "cpu", "mem", "os", "dotnet", "redis", "wrk", "date", "0"),
            Scenarios = [yarp, gateway, again],
        };
        GoalRatios.Add(report, [yarp, gateway, again], yarp, gateway, again, rateGiven);
        return report;
    }

    private static Ratio Single(RunReport report, string prefix) => Assert.Single(report.Ratios, r => r.Name.StartsWith(prefix, StringComparison.Ordinal));

    private static ScenarioResult Fixed(string name, double p99, List<double> rounds) => new()
    {
        Name = name,
        Target = name.Split('-')[0],
        Description = "test",
        Payload = "GET 8 KB",
        Load = "open, 3000 req/s",
        Requests = 1000,
        OfferedRps = 3000,
        P99Ms = p99,
        RoundP99Ms = rounds,
    };
}
