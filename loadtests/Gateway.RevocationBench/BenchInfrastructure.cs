using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ConsentGateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConsentGateway.RevocationBench;

/// <summary>
/// Minimal in-process Kestrel upstream: it tells the caller, in a response header, whether the personal
/// field reached it (the header is not subject to body rules), and answers <c>{}</c>.
/// </summary>
internal sealed class BenchUpstream : IAsyncDisposable
{
    public const string SawEmailHeader = "X-Upstream-Saw-Email";
    private static readonly byte[] EmailProperty = "\"email\""u8.ToArray();
    private static readonly byte[] EmptyObject = "{}"u8.ToArray();

    private readonly WebApplication _app;

    private BenchUpstream(WebApplication app, string address)
    {
        _app = app;
        BaseAddress = address;
    }

    public string BaseAddress { get; }

    public static async Task<BenchUpstream> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(static async context =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var saw = buffer.GetBuffer().AsSpan(0, (int)buffer.Length).IndexOf(EmailProperty) >= 0;
            context.Response.Headers[SawEmailHeader] = saw ? "1" : "0";
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = EmptyObject.Length;
            await context.Response.Body.WriteAsync(EmptyObject);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BenchUpstream(app, address.TrimEnd('/') + "/");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One gateway instance (production composition via GatewayApp.Build) with its own L1, and clients for it.</summary>
internal sealed class GatewayInstance : IAsyncDisposable
{
    public const string ApiKey = "bench-caller-key";
    public const string AdminKey = "bench-admin-key";
    private static readonly byte[] Body = """{"email":"ann@example.com","tier":"gold"}"""u8.ToArray();

    private readonly WebApplication _app;

    private GatewayInstance(string name, WebApplication app)
    {
        Name = name;
        _app = app;
        var listeners = app.Services.GetRequiredService<Listeners>();
        Proxy = new HttpClient(new SocketsHttpHandler { UseCookies = false, AutomaticDecompression = DecompressionMethods.None, UseProxy = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{listeners.ProxyEndPoint!.Port}/"),
        };
        Admin = new HttpClient(new SocketsHttpHandler { UseCookies = false, UseProxy = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{listeners.AdminEndPoint!.Port}/"),
        };
        Admin.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
    }

    public string Name { get; }

    public IServiceProvider Services => _app.Services;

    public HttpClient Proxy { get; }

    public HttpClient Admin { get; }

    public static async Task<GatewayInstance> StartAsync(string name, string configPath, string redis)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:ProxyUrl"] = "http://127.0.0.1:0",
            ["Gateway:AdminUrl"] = "http://127.0.0.1:0",
            ["Consent:Redis"] = redis,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var app = GatewayApp.Build(["--config", configPath], settings);
        await app.StartAsync();
        var instance = new GatewayInstance(name, app);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using (var ready = await instance.Admin.GetAsync("readyz"))
            {
                if (ready.IsSuccessStatusCode)
                {
                    return instance;
                }
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(15))
            {
                throw new TimeoutException($"gateway {name} not ready: " + await instance.Admin.GetStringAsync("readyz"));
            }

            await Task.Delay(25);
        }
    }

    /// <summary>The gateway policy this benchmark runs: one consent purpose, one field rule on the request body.</summary>
    public static JsonObject Config(string upstreamAddress) => new()
    {
        ["Gateway"] = new JsonObject
        {
            ["HashKey"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()),
            ["AdminKeys"] = new JsonArray(Sha256Hex.Compute(AdminKey)),
        },
        ["Policy"] = new JsonObject
        {
            ["Purposes"] = new JsonObject
            {
                ["marketing"] = new JsonObject { ["Basis"] = "consent", ["Categories"] = new JsonArray("user.contact") },
            },
            ["Callers"] = new JsonObject
            {
                ["bench"] = new JsonObject { ["KeySha256"] = Sha256Hex.Compute(ApiKey), ["Purposes"] = new JsonArray("marketing") },
            },
            ["Routes"] = new JsonObject
            {
                ["customers"] = new JsonObject
                {
                    ["Subject"] = new JsonObject { ["From"] = "header" },
                    ["Direction"] = "both",
                    ["Action"] = "strip",
                    ["Mode"] = "enforce",
                    ["Fields"] = new JsonArray(new JsonObject { ["Path"] = "$.email", ["Category"] = "user.contact.email" }),
                },
            },
        },
        ["ReverseProxy"] = new JsonObject
        {
            ["Routes"] = new JsonObject
            {
                ["customers"] = new JsonObject { ["ClusterId"] = "upstream", ["Match"] = new JsonObject { ["Path"] = "/customers/{**rest}" } },
            },
            ["Clusters"] = new JsonObject
            {
                ["upstream"] = new JsonObject { ["Destinations"] = new JsonObject { ["d1"] = new JsonObject { ["Address"] = upstreamAddress } } },
            },
        },
    };

    /// <summary>One proxied request; true when the upstream received the e-mail field.</summary>
    public async Task<bool> EmailTravelsAsync(string subject)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "customers/x");
        request.Headers.TryAddWithoutValidation("X-Api-Key", ApiKey);
        request.Headers.TryAddWithoutValidation("X-Purpose", "marketing");
        request.Headers.TryAddWithoutValidation("X-Subject-Id", subject);
        request.Content = new ByteArrayContent(Body);
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await Proxy.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"gateway {Name} answered {(int)response.StatusCode}");
        }

        return response.Headers.TryGetValues(BenchUpstream.SawEmailHeader, out var values) && values.Contains("1");
    }

    /// <summary>PUT a purpose decision through this instance's consent API; returns when the API acknowledged it.</summary>
    public async Task WriteConsentAsync(string subject, string status)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"status":"{{status}}","source":"bench"}"""));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await Admin.PutAsync($"v1/subjects/{subject}/consents/marketing", content);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        Proxy.Dispose();
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
