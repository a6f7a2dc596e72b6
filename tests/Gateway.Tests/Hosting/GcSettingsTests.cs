using System.Text.Json.Nodes;

namespace ConsentGateway.Tests.Hosting;

/// <summary>
/// The load tests' plain YARP must run with the gateway's GC settings, or the p99 and throughput it
/// is compared against would measure GC policy instead of enforcement (session 20 measured how much
/// the GC mode alone moves them). Read from the runtimeconfig.json files the builds emit, which is
/// what the runtime reads at start-up.
/// </summary>
public sealed class GcSettingsTests
{
    [Fact]
    public void Plain_YARP_in_the_load_tests_runs_with_the_gateways_GC_settings()
    {
        var gateway = GcProperties("ConsentGateway");
        Assert.Equal("true", gateway.GetValueOrDefault("System.GC.Server"));
        Assert.Equal(gateway.OrderBy(p => p.Key, StringComparer.Ordinal), GcProperties("PlainProxy").OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    private static Dictionary<string, string> GcProperties(string app)
    {
        var path = Path.Combine(AppContext.BaseDirectory, app + ".runtimeconfig.json");
        var properties = JsonNode.Parse(File.ReadAllText(path))!["runtimeOptions"]!["configProperties"]!.AsObject();
        var gc = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in properties)
        {
            if (name.StartsWith("System.GC.", StringComparison.Ordinal))
            {
                gc[name] = value!.ToJsonString().Trim('"').ToLowerInvariant();
            }
        }

        return gc;
    }
}
