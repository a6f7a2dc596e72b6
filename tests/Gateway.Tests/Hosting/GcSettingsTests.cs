using System.Text.Json.Nodes;

namespace ConsentGateway.Tests.Hosting;

/// <summary>
/// The gateway ships with server GC and DATAS off (a latency choice; see src/Gateway/Gateway.csproj),
/// and the load tests' plain YARP must run with the same GC settings, or the p99 it is compared
/// against would measure GC policy instead of enforcement. Read from the runtimeconfig.json files
/// the builds emit, which is what the runtime reads at start-up.
/// </summary>
public sealed class GcSettingsTests
{
    [Fact]
    public void The_gateway_runs_server_GC_without_dynamic_adaptation()
    {
        var gc = GcProperties("ConsentGateway");
        Assert.Equal("true", gc["System.GC.Server"]);
        Assert.Equal("0", gc["System.GC.DynamicAdaptationMode"]);
    }

    [Fact]
    public void Plain_YARP_in_the_load_tests_runs_with_the_gateways_GC_settings()
    {
        var gateway = GcProperties("ConsentGateway");
        var plain = GcProperties("PlainProxy");
        Assert.Equal(gateway.OrderBy(p => p.Key, StringComparer.Ordinal), plain.OrderBy(p => p.Key, StringComparer.Ordinal));
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
