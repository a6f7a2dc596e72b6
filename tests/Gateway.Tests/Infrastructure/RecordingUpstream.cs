using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ConsentGateway.Tests.Infrastructure;

/// <summary>What the upstream actually received, byte for byte.</summary>
public sealed record ReceivedRequest(string Method, string Path, string QueryString, IReadOnlyDictionary<string, string[]> Headers, byte[] Body)
{
    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);

    public string? Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value is { } v ? string.Join(",", v) : null;
}

/// <summary>
/// A real Kestrel upstream on a free loopback port. It records every request it receives and
/// answers with whatever the current test told it to (by default an echo of the request body).
/// </summary>
public sealed class RecordingUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private volatile Func<HttpContext, ReceivedRequest, Task>? _responder;

    private RecordingUpstream(WebApplication app)
    {
        _app = app;
    }

    public string BaseAddress { get; private set; } = string.Empty;

    public IReadOnlyCollection<ReceivedRequest> Received => _received;

    public static async Task<RecordingUpstream> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new RecordingUpstream(app);
        app.Run(upstream.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetService(typeof(IServer)) is IServer server
            ? server.Features.Get<IServerAddressesFeature>()!.Addresses.First()
            : throw new InvalidOperationException("no server");
        upstream.BaseAddress = address.TrimEnd('/') + "/";
        return upstream;
    }

    /// <summary>Answer every following request with this JSON body (and optional content type/headers).</summary>
    public void RespondWithJson(string json, string contentType = "application/json", int status = 200, Action<HttpResponse>? headers = null) =>
        RespondWithBytes(System.Text.Encoding.UTF8.GetBytes(json), contentType, status, headers);

    public void RespondWithBytes(byte[] body, string? contentType, int status = 200, Action<HttpResponse>? headers = null) =>
        _responder = async (ctx, _) =>
        {
            ctx.Response.StatusCode = status;
            if (contentType is not null)
            {
                ctx.Response.ContentType = contentType;
            }

            headers?.Invoke(ctx.Response);
            ctx.Response.ContentLength = body.Length;
            await ctx.Response.Body.WriteAsync(body);
        };

    public void Respond(Func<HttpContext, ReceivedRequest, Task> responder) => _responder = responder;

    /// <summary>Forget recorded requests and go back to echoing.</summary>
    public void Reset()
    {
        _received.Clear();
        _responder = null;
    }

    public ReceivedRequest OnlyRequest()
    {
        Assert.Single(_received);
        return _received.First();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.Select(v => v ?? string.Empty).ToArray(), StringComparer.OrdinalIgnoreCase);
        var received = new ReceivedRequest(context.Request.Method, context.Request.Path.Value ?? string.Empty, context.Request.QueryString.Value ?? string.Empty, headers, buffer.ToArray());
        _received.Enqueue(received);
        if (_responder is { } responder)
        {
            await responder(context, received);
            return;
        }

        context.Response.ContentType = context.Request.ContentType ?? "application/json";
        var body = received.Body.Length > 0 ? received.Body : "{}"u8.ToArray();
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    }
}
