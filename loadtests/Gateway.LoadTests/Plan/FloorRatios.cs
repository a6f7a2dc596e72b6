using System.Globalization;
using ConsentGateway.LoadTests.Engine;
using ConsentGateway.LoadTests.Report;

namespace ConsentGateway.LoadTests.Plan;

/// <summary>
/// Reference rows of a --floor run: the floor proxy (plain YARP that holds and checks each JSON body,
/// nothing more) against plain YARP, measured as the gateway's goals are. They have no goal of their
/// own; they say how much of the gateway's distance from plain YARP any fail-closed body check costs.
/// </summary>
internal static class FloorRatios
{
    private const string Reference = "none: reference (buffering and one check, no enforcement)";

    public static void Add(RunReport report, IReadOnlyList<ScenarioResult> results, ScenarioResult yarpFixed, ScenarioResult floorFixed)
    {
        ScenarioResult? Find(string name) => results.FirstOrDefault(r => r.Name == name && r.Requests > 0);

        foreach (var name in new[] { "get", "post" })
        {
            var floor = Find($"floor-{name}-8k");
            var yarp = Find($"yarp-{name}-8k");
            if (floor is null || yarp is null || yarp.ThroughputRps <= 0)
            {
                continue;
            }

            var label = $"throughput floor / yarp, {name.ToUpperInvariant()} 8k";
            Row($"{label}, all rounds pooled", floor, yarp, Math.Round(floor.ThroughputRps / yarp.ThroughputRps, 3));
            if (GoalRatios.PairedMedianRatio(floor.RoundThroughputRps, yarp.RoundThroughputRps) is { } paired)
            {
                Row($"{label}, median over {floor.RoundThroughputRps.Count} paired rounds", floor, yarp, Math.Round(paired, 3));
            }
        }

        if (floorFixed.Requests > 0 && yarpFixed.Requests > 0)
        {
            Row(string.Create(CultureInfo.InvariantCulture, $"p99 added by the floor over plain YARP at {floorFixed.OfferedRps:0} req/s, GET 8k, all rounds pooled (ms)"), floorFixed, yarpFixed, Math.Round(floorFixed.P99Ms - yarpFixed.P99Ms, 3));
            if (GoalRatios.PairedMedianDifference(floorFixed.RoundP99Ms, yarpFixed.RoundP99Ms) is { } paired)
            {
                Row($"p99 added by the floor, same rate, median over {floorFixed.RoundP99Ms.Count} paired rounds (ms)", floorFixed, yarpFixed, Math.Round(paired, 3));
            }
        }

        void Row(string name, ScenarioResult numerator, ScenarioResult denominator, double value) =>
            report.Ratios.Add(new Ratio(name, numerator.Name, denominator.Name, value, Reference, Met: true, IsControl: true));
    }
}
