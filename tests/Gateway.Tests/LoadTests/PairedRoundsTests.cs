using ConsentGateway.LoadTests.Plan;

namespace ConsentGateway.Tests.LoadTests;

/// <summary>The p99-added row judged per interleaved round: the median of paired differences.</summary>
public sealed class PairedRoundsTests
{
    [Fact]
    public void One_stalled_round_does_not_move_the_median_of_paired_differences()
    {
        // Gateway rounds against the plain-YARP round just before each; round 3 hit a 40 ms host stall.
        List<double> gateway = [2.1, 2.4, 45.0, 2.2, 2.3];
        List<double> yarp = [1.8, 1.9, 2.0, 2.1, 1.7];

        var median = GoalRatios.PairedMedianDifference(gateway, yarp);

        Assert.NotNull(median);
        Assert.Equal(0.5, median.Value, 6); // differences 0.3, 0.5, 43, 0.1, 0.6
    }

    [Fact]
    public void An_even_number_of_rounds_takes_the_mean_of_the_middle_two()
    {
        var median = GoalRatios.PairedMedianDifference([3, 3, 3, 3], [1, 2, 2.5, 0]);

        Assert.Equal(1.5, median!.Value, 6); // differences 2, 1, 0.5, 3 → sorted 0.5, 1, 2, 3
    }

    [Fact]
    public void Fewer_than_three_pairs_give_no_median()
    {
        Assert.Null(GoalRatios.PairedMedianDifference([1, 2], [1, 2]));
        Assert.Null(GoalRatios.PairedMedianDifference([1, 2, 3], [1, 2]));
    }

    [Fact]
    public void Throughput_is_judged_by_the_median_of_paired_round_ratios()
    {
        // Round 2's gateway side was starved by a neighbour: its ratio (0.50) is the outlier.
        List<double> gateway = [900, 500, 880, 870, 910];
        List<double> yarp = [1000, 1000, 1000, 1000, 1000];

        var median = GoalRatios.PairedMedianRatio(gateway, yarp);

        Assert.Equal(0.88, median!.Value, 6); // ratios 0.90, 0.50, 0.88, 0.87, 0.91
    }

    [Fact]
    public void A_round_without_answers_on_the_plain_side_is_left_out_of_the_ratios()
    {
        var median = GoalRatios.PairedMedianRatio([900, 800, 850, 870], [1000, 0, 1000, 1000]);

        Assert.Equal(0.87, median!.Value, 6); // 0.90, 0.85, 0.87: the 0-rps round has no ratio
    }
}
