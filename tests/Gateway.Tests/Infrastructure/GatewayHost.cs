using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ConsentGateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ConsentGateway.Tests.Infrastructure;

/// <summary>
/// A real gateway (the production composition, GatewayApp.Build) on two free loopback ports, with
/// its configuration written to a temporary file exactly as an operator would write it.
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private GatewayHost(WebApplication app, string directory, string configPath)
    {
        _app = app;
        _directory = directory;
        ConfigPath = configPath;
        var listeners = app.Services.GetRequiredService<Listeners>();
        ProxyAddress = new Uri($"http://127.0.0.1:{listeners.ProxyEndPoint!.Port}/");
        AdminAddress = new Uri($"http://127.0.0.1:{listeners.AdminEndPoint!.Port}/");
        Proxy = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.None, UseCookies = false }) { BaseAddress = ProxyAddress };
        Admin = new HttpClient { BaseAddress = AdminAddress };
        Admin.DefaultRequestHeaders.Add("X-Admin-Key", TestConfig.AdminKey);
    }

    public Uri ProxyAddress { get; }

    public Uri AdminAddress { get; }

    public HttpClient Proxy { get; }

    public HttpClient Admin { get; }

    public string ConfigPath { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<GatewayHost> StartAsync(JsonObject config, IDictionary<string, string?>? overrides = null)
    {
        var directory = Directory.CreateTempSubdirectory("consent-gateway-test-").FullName;
        var path = Path.Combine(directory, "gateway.json");
        await File.WriteAllTextAsync(path, config.ToJsonString());
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:ProxyUrl"] = "http://127.0.0.1:0",
            ["Gateway:AdminUrl"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in overrides ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }

        WebApplication? app = null;
        try
        {
            app = GatewayApp.Build(["--config", path], settings);
            await app.StartAsync();
            return new GatewayHost(app, directory, path);
        }
        catch
        {
            // Tests that expect start-up to refuse a configuration would otherwise leave the directory behind.
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            DeleteDirectory(directory);
            throw;
        }
    }

    /// <summary>Rewrites the configuration file (as an operator editing it would) for hot-reload tests.</summary>
    public Task WriteConfigAsync(JsonObject config) => File.WriteAllTextAsync(ConfigPath, config.ToJsonString());

    /// <summary>A request through the proxy listener with the standard test caller key.</summary>
    public static HttpRequestMessage Request(HttpMethod method, string path, string? purpose = "marketing", string? subject = null, string? apiKey = TestConfig.ApiKey)
    {
        var request = new HttpRequestMessage(method, path);
        if (apiKey is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Api-Key", apiKey);
        }

        if (purpose is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Purpose", purpose);
        }

        if (subject is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Subject-Id", subject);
        }

        return request;
    }

    public static HttpContent Json(string json, string contentType = "application/json") =>
        new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(json)) { Headers = { ContentType = MediaTypeHeaderValue.Parse(contentType) } };

    public async Task GrantAsync(string subject, string purpose, string status = "granted", string? expiresAt = null)
    {
        var body = new JsonObject { ["status"] = status, ["source"] = "test" };
        if (expiresAt is not null)
        {
            body["expiresAt"] = expiresAt;
        }

        using var response = await Admin.PutAsync($"v1/subjects/{Uri.EscapeDataString(subject)}/consents/{purpose}", Json(body.ToJsonString()));
        response.EnsureSuccessStatusCode();
    }

    public async Task SetGpcAsync(string subject, bool gpc)
    {
        using var response = await Admin.PutAsync($"v1/subjects/{Uri.EscapeDataString(subject)}/gpc", Json($$"""{"gpc":{{(gpc ? "true" : "false")}}}"""));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Waits for /readyz (store connected and subscribed), as an orchestrator's readiness probe would.</summary>
    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            using (var response = await Admin.GetAsync("readyz"))
            {
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("gateway not ready: " + await Admin.GetStringAsync("readyz"));
            }

            await Task.Delay(25);
        }
    }

    public async Task<string> MetricsAsync() => await Admin.GetStringAsync("metrics");

    public async ValueTask DisposeAsync()
    {
        Proxy.Dispose();
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        DeleteDirectory(_directory);
    }

    private static void DeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
