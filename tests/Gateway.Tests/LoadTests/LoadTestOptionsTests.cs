using ConsentGateway.LoadTests;

namespace ConsentGateway.Tests.LoadTests;

/// <summary>The load-test harness's command line.</summary>
public sealed class LoadTestOptionsTests
{
    [Fact]
    public void The_fixed_rate_is_half_the_capacity_unless_given()
    {
        Assert.Null(LoadTestOptions.Parse([]).FixedRate);
        Assert.Equal(250.5, LoadTestOptions.Parse(["--fixed-rate", "250.5"]).FixedRate);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    public void A_fixed_rate_that_sends_nothing_is_refused(string rate)
    {
        var ex = Assert.Throws<ArgumentException>(() => LoadTestOptions.Parse(["--fixed-rate", rate]));
        Assert.Contains("--fixed-rate must be above 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_burned_floor_runs_beside_the_floor()
    {
        var none = LoadTestOptions.Parse(["--floor"]);
        Assert.Equal(0, none.FloorBurnUs);

        var burned = LoadTestOptions.Parse(["--floor-burn", "20"]);
        Assert.Equal(20, burned.FloorBurnUs);
        Assert.True(burned.Floor);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    public void A_burn_of_nothing_is_refused(string microseconds)
    {
        var ex = Assert.Throws<ArgumentException>(() => LoadTestOptions.Parse(["--floor-burn", microseconds]));
        Assert.Contains("--floor-burn must be above 0", ex.Message, StringComparison.Ordinal);
    }
}
