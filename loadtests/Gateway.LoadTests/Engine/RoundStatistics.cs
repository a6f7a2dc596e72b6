namespace ConsentGateway.LoadTests.Engine;

/// <summary>Statistics over a scenario's per-round figures, shared by the goals (RunPlan) and the report.</summary>
internal static class RoundStatistics
{
    /// <summary>The median (mean of the middle two for an even count); NaN when there are no values. Does not reorder the input.</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
