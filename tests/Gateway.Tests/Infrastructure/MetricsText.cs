namespace ConsentGateway.Tests.Infrastructure;

/// <summary>Reads counters out of the gateway's Prometheus text, as a scraper would.</summary>
public static class MetricsText
{
    /// <summary>The gateway counts after the caller has its answer: poll briefly (at most 2 s) for the increment.</summary>
    public static async Task<double> CounterAbove(GatewayHost gateway, double before, string name, params (string Label, string Value)[] labels)
    {
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (true)
        {
            var value = Counter(await gateway.MetricsAsync(), name, labels);
            if (value > before || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Sum of every series of <paramref name="name"/> carrying all the given labels.</summary>
    public static double Counter(string metrics, string name, params (string Label, string Value)[] labels)
    {
        double total = 0;
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(name + "{", StringComparison.Ordinal)
                && labels.All(l => line.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                total += double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return total;
    }
}
