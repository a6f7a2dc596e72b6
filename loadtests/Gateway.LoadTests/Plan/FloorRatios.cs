using System.Globalization;
using ConsentGateway.LoadTests.Engine;
using ConsentGateway.LoadTests.Report;

namespace ConsentGateway.LoadTests.Plan;

/// <summary>
/// Reference rows of a --floor run: the floor proxy (plain YARP that holds and checks each JSON body,
/// nothing more) against plain YARP, measured as the gateway's goals are. They have no goal of their
/// own; they say how much of the gateway's distance from plain YARP any fail-closed body check costs.
/// Under --floor-burn the burned floor (the same plus fixed CPU work per request) gets the same rows,
/// its p99 against the floor's (what that much CPU per request costs in p99, in this run) and the
/// gateway's p99 against its own: with a burn near the gateway's CPU above the floor, that is the
/// gateway against a proxy that spends what it spends per request and enforces nothing.
/// </summary>
internal static class FloorRatios
{
    private const string Reference = "none: reference (buffering and one check, no enforcement)";

    public static void Add(RunReport report, IReadOnlyList<ScenarioResult> results, ScenarioResult yarpFixed, ScenarioResult gatewayFixed, ScenarioResult floorFixed, ScenarioResult? burnedFixed)
    {
        ScenarioResult? Find(string name) => results.FirstOrDefault(r => r.Name == name && r.Requests > 0);

        foreach (var (target, label) in new[] { ("floor", "floor"), ("floorburn", "burned floor") })
        {
            foreach (var name in new[] { "get", "post" })
            {
                var floor = Find($"{target}-{name}-8k");
                var yarp = Find($"yarp-{name}-8k");
                if (floor is null || yarp is null || yarp.ThroughputRps <= 0)
                {
                    continue;
                }

                var rowLabel = $"throughput {label} / yarp, {name.ToUpperInvariant()} 8k";
                Row($"{rowLabel}, all rounds pooled", floor, yarp, Math.Round(floor.ThroughputRps / yarp.ThroughputRps, 3));
                if (GoalRatios.PairedMedianRatio(floor.RoundThroughputRps, yarp.RoundThroughputRps) is { } paired)
                {
                    Row($"{rowLabel}, median over {floor.RoundThroughputRps.Count} paired rounds", floor, yarp, Math.Round(paired, 3));
                }
            }
        }

        P99Rows("the floor", "plain YARP", floorFixed, yarpFixed);
        if (burnedFixed is not null)
        {
            P99Rows("the burned floor", "plain YARP", burnedFixed, yarpFixed);
            P99Rows("the burned floor", "the floor", burnedFixed, floorFixed);
            P99Rows("the gateway", "the burned floor", gatewayFixed, burnedFixed);
        }

        void P99Rows(string what, string over, ScenarioResult numerator, ScenarioResult denominator)
        {
            if (numerator.Requests > 0 && denominator.Requests > 0)
            {
                Row(string.Create(CultureInfo.InvariantCulture, $"p99 added by {what} over {over} at {numerator.OfferedRps:0} req/s, GET 8k, all rounds pooled (ms)"), numerator, denominator, Math.Round(numerator.P99Ms - denominator.P99Ms, 3));
                if (GoalRatios.PairedMedianDifference(numerator.RoundP99Ms, denominator.RoundP99Ms) is { } paired)
                {
                    // Over plain YARP the name stays as earlier reports wrote it (loadtests/cpu-vs-p99.py reads it).
                    var pairedName = over == "plain YARP" ? $"p99 added by {what}, same rate" : $"p99 added by {what} over {over}, same rate";
                    Row($"{pairedName}, median over {numerator.RoundP99Ms.Count} paired rounds (ms)", numerator, denominator, Math.Round(paired, 3));
                }
            }
        }

        void Row(string name, ScenarioResult numerator, ScenarioResult denominator, double value) =>
            report.Ratios.Add(new Ratio(name, numerator.Name, denominator.Name, value, Reference, Met: true, IsControl: true));
    }
}
