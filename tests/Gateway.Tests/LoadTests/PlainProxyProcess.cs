using ConsentGateway.LoadTests;
using ConsentGateway.LoadTests.Bed;

namespace ConsentGateway.Tests.LoadTests;

/// <summary>
/// The built PlainProxy binary (plain YARP, or the floor proxy with --buffer-json, with or without --burn-us) in its own process,
/// forwarding every path to one upstream, as the load tests run it.
/// </summary>
internal sealed class PlainProxyProcess : IDisposable
{
    private readonly ManagedProcess _process;
    private readonly string _config;

    private PlainProxyProcess(ManagedProcess process, string config, Uri address)
    {
        _process = process;
        _config = config;
        Address = address;
    }

    public Uri Address { get; }

    public int Id => _process.Id;

    /// <summary>Starts it and waits until it answers; the readiness probes reach the upstream too.</summary>
    public static async Task<PlainProxyProcess> StartAsync(string upstreamBaseAddress, bool bufferJson, double burnMicroseconds = 0)
    {
        var options = LoadTestOptions.Parse([]);
        var dll = Path.Combine(options.RepoRoot, "src", "PlainProxy", "bin", options.Configuration, "net10.0", "PlainProxy.dll");
        Assert.True(File.Exists(dll), $"{dll} not built");
        var port = ManagedProcess.FreePort();
        var config = Path.Combine(Path.GetTempPath(), $"plain-proxy-{port}-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "ReverseProxy": {
                "Routes": { "all": { "ClusterId": "up", "Match": { "Path": "{**catch-all}" } } },
                "Clusters": { "up": { "Destinations": { "d": { "Address": "{{upstreamBaseAddress}}" } } } }
              }
            }
            """);
        var address = new Uri($"http://127.0.0.1:{port}");
        string[] args =
        [
            dll, "--config", config, "--urls", address.ToString().TrimEnd('/'),
            .. bufferJson ? new[] { "--buffer-json", "true" } : [],
            .. burnMicroseconds > 0 ? new[] { "--burn-us", burnMicroseconds.ToString(System.Globalization.CultureInfo.InvariantCulture) } : [],
        ];
        var log = Path.Combine(Path.GetTempPath(), $"plain-proxy-{port}.log");
        var name = burnMicroseconds > 0 ? TestBed.FloorBurnProcess : bufferJson ? TestBed.FloorProcess : "plainproxy";
        var process = ManagedProcess.Start(name, "dotnet", args, options.RepoRoot, log);
        try
        {
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            await process.WaitUntilAsync(async () => { using var r = await probe.GetAsync(new Uri(address, "/healthz")); return true; }, TimeSpan.FromSeconds(30), log);
            return new PlainProxyProcess(process, config, address);
        }
        catch
        {
            process.Dispose();
            File.Delete(config);
            throw;
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        File.Delete(_config);
    }
}
