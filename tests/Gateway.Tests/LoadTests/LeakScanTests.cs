using System.Text;
using ConsentGateway.LoadTests.Engine;

namespace ConsentGateway.Tests.LoadTests;

/// <summary>The load generator's leak check: every marker anywhere in an answer is seen.</summary>
public sealed class LeakScanTests
{
    private static readonly byte[][] Markers = ["\"dateOfBirth\""u8.ToArray(), "\"4804320458028950\""u8.ToArray()];

    [Theory]
    [InlineData("""{"dateOfBirth":"1995-01-20","tier":"gold"}""")]
    [InlineData("""{"tier":"gold","card":"4804320458028950"}""")]
    [InlineData("""{"a":"4804320458028950","b":{"dateOfBirth":1},"c":"4804320458028950"}""")]
    public void An_answer_holding_a_marker_anywhere_is_caught(string answer) =>
        Assert.True(ScenarioRunner.ScanThrough(Encoding.UTF8.GetBytes(answer), Markers));

    [Theory]
    [InlineData("""{"tier":"gold"}""")]
    [InlineData("""{"dateofbirth":"x","card":"480432045802895"}""")]
    [InlineData("")]
    public void An_answer_without_any_is_clean(string answer) =>
        Assert.False(ScenarioRunner.ScanThrough(Encoding.UTF8.GetBytes(answer), Markers));

    [Fact]
    public void A_marker_at_the_very_end_is_caught()
    {
        var answer = Encoding.UTF8.GetBytes(new string(' ', 9000) + "\"dateOfBirth\"");
        Assert.True(ScenarioRunner.ScanThrough(answer, Markers));
    }
}
