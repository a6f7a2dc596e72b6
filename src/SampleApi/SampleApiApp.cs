using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using SampleApi.Data;

namespace SampleApi;

/// <summary>
/// A small customers/orders API whose JSON carries personal fields: the upstream the gateway protects
/// in the demo, the tests and the load tests. Seeded, read-only, deterministic data (c-1001 … c-1050).
/// </summary>
/// <remarks>
/// Endpoints:
/// <list type="bullet">
/// <item>GET /customers/{id}: one customer (404 problem when unknown).</item>
/// <item>GET /customers?limit=N&amp;email=E: a JSON array of customers (limit 0–50, default 10; optional exact e-mail filter).</item>
/// <item>POST /customers: 201 echoing back exactly the JSON received (shows what the gateway let through).</item>
/// <item>GET /customers/{id}/orders: a JSON array of the customer's orders (each with contact.email/phone).</item>
/// <item>POST /orders: 201 <c>{"id","status":"accepted","order":&lt;the JSON received&gt;}</c>.</item>
/// <item>GET /customers/{id}/profile?size=small|medium|large: about 0.5 KB / 8 KB / 256 KB of JSON.</item>
/// <item>POST /echo: exactly the request body, with the request's Content-Type.</item>
/// <item>ANY /inspect/{**rest}: JSON describing the request as received (method, path, query, headers, body length).</item>
/// <item>GET /healthz.</item>
/// </list>
/// </remarks>
[SuppressMessage("Maintainability", "CA1515:Consider making public types internal", Justification = "Tests host the sample API in-process through this entry point.")]
public static class SampleApiApp
{
    /// <summary>Where the API listens when neither --urls nor ASPNETCORE_URLS says otherwise (the demo's upstream).</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>
    /// How long an idle keep-alive connection stays open: longer than the 10 minutes the gateway (and
    /// the plain YARP baseline) pools an idle upstream connection (Gateway:UpstreamIdleTimeout), so the
    /// proxy, the client side, is the one that closes it, as an upstream behind a pooling proxy should be
    /// set up. With Kestrel's default 130 s the upstream closed the proxies' spare connections between
    /// bursts and the next burst had to open them again.
    /// </summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromMinutes(15);

    private const int MaxBodyBytes = 16 * 1024 * 1024;
    private const string JsonUtf8 = "application/json; charset=utf-8";

    private static readonly JsonDocumentOptions BodyOptions = new() { MaxDepth = 256 };

    private static long _nextOrder = 70000;

    /// <summary>Builds the application; the caller runs it. Accepts the usual host arguments (--urls …).</summary>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);

        // Tests host this API in the same process (and output folder) as the gateway: read only
        // ASPNETCORE_* variables and the command line, never an appsettings.json or unprefixed
        // variables (Kestrel__Endpoints…) that belong to the gateway.
        var config = builder.Configuration;
        config.Sources.Clear();
        config.AddEnvironmentVariables("ASPNETCORE_");
        config.AddCommandLine(args);
        if (string.IsNullOrEmpty(config["urls"]) && string.IsNullOrEmpty(config["http_ports"]) && string.IsNullOrEmpty(config["https_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = MaxBodyBytes;
            k.Limits.KeepAliveTimeout = KeepAliveTimeout;
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var app = builder.Build();
        Map(app);
        return app;
    }

    private static void Map(WebApplication app)
    {
        var data = SampleData.Instance;
        var json = SampleJsonContext.Relaxed;

        app.MapGet("/healthz", () => TypedResults.Json(new Health("ok", data.Customers.Count), json.Health));

        app.MapGet("/customers/{id}", Results<JsonHttpResult<Customer>, ProblemHttpResult> (string id) =>
            data.CustomersById.TryGetValue(id, out var c)
                ? TypedResults.Json(c, json.Customer)
                : NotFound(id));

        app.MapGet("/customers", Results<JsonHttpResult<IReadOnlyList<Customer>>, ProblemHttpResult> (HttpRequest request) =>
        {
            var limit = 10;
            var limitText = request.Query["limit"];
            if (limitText.Count > 1
                || (limitText.Count == 1 && !int.TryParse(limitText[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit)))
            {
                return BadRequest("limit must be one non-negative integer.");
            }

            IEnumerable<Customer> result = data.Customers;
            var email = request.Query["email"];
            if (email.Count > 0)
            {
                result = result.Where(c => email.Contains(c.Email, StringComparer.OrdinalIgnoreCase));
            }

            return TypedResults.Json<IReadOnlyList<Customer>>(result.Take(Math.Min(limit, SampleData.CustomerCount)).ToList(), json.IReadOnlyListCustomer);
        });

        app.MapPost("/customers", async (HttpContext ctx) =>
        {
            var (body, problem) = await ReadJsonObjectAsync(ctx.Request).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            // Echo exactly what arrived: this is what the gateway let through to the upstream.
            string? location = null;
            using (var doc = JsonDocument.Parse(body, BodyOptions))
            {
                if (doc.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
                {
                    location = "/customers/" + Uri.EscapeDataString(id.GetString()!);
                }
            }

            return new RawJson(body, StatusCodes.Status201Created, location);
        });

        app.MapGet("/customers/{id}/orders", Results<JsonHttpResult<IReadOnlyList<Order>>, ProblemHttpResult> (string id) =>
            data.OrdersByCustomer.TryGetValue(id, out var orders)
                ? TypedResults.Json(orders, json.IReadOnlyListOrder)
                : NotFound(id));

        app.MapPost("/orders", async (HttpContext ctx) =>
        {
            var (body, problem) = await ReadJsonObjectAsync(ctx.Request).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            var id = string.Create(CultureInfo.InvariantCulture, $"o-{Interlocked.Increment(ref _nextOrder)}");
            using var buffer = new MemoryStream(body.Length + 64);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("id", id);
                writer.WriteString("status", "accepted");
                writer.WritePropertyName("order");
                writer.WriteRawValue(body, skipInputValidation: true); // validated by ReadJsonObjectAsync
                writer.WriteEndObject();
            }

            return new RawJson(buffer.ToArray(), StatusCodes.Status201Created, "/orders/" + id);
        });

        app.MapGet("/customers/{id}/profile", IResult (string id, string? size) =>
        {
            if (!Profiles.TryParseSize(size, out var profileSize))
            {
                return BadRequest("size must be small, medium or large.");
            }

            return data.CustomersById.TryGetValue(id, out var c)
                ? new RawJson(Profiles.Get(c, profileSize))
                : NotFound(id);
        });

        app.MapPost("/echo", async (HttpContext ctx) =>
        {
            var request = ctx.Request;
            var response = ctx.Response;
            var contentType = request.ContentType;
            if (contentType is not null)
            {
                response.ContentType = contentType;
            }

            // Exactly the bytes received; no Content-Type at all when the request had none.
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, ctx.RequestAborted).ConfigureAwait(false);
            response.ContentLength = buffer.Length;
            buffer.Position = 0;
            await buffer.CopyToAsync(response.Body, ctx.RequestAborted).ConfigureAwait(false);
        });

        app.Map("/inspect/{**rest}", async (HttpContext ctx) =>
        {
            var request = ctx.Request;
            using var sink = new MemoryStream();
            await request.Body.CopyToAsync(sink, ctx.RequestAborted).ConfigureAwait(false);

            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("method", request.Method);
                w.WriteString("path", request.Path.Value);
                w.WriteString("queryString", request.QueryString.Value);
                WriteValues(w, "query", request.Query.Select(q => KeyValuePair.Create(q.Key, q.Value)));
                WriteValues(w, "headers", request.Headers.Select(h => KeyValuePair.Create(h.Key, h.Value)));
                w.WriteNumber("bodyLength", sink.Length);
                w.WriteEndObject();
            }

            await new RawJson(buffer.ToArray()).ExecuteAsync(ctx).ConfigureAwait(false);
        });
    }

    private static void WriteValues(Utf8JsonWriter w, string name, IEnumerable<KeyValuePair<string, StringValues>> values)
    {
        w.WriteStartObject(name);
        foreach (var (key, value) in values)
        {
            w.WriteStartArray(key);
            foreach (var v in value)
            {
                w.WriteStringValue(v);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static async Task<(byte[] Body, IResult? Problem)> ReadJsonObjectAsync(HttpRequest request)
    {
        if (!IsJson(request.ContentType))
        {
            return ([], TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type",
                detail: "Send application/json."));
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted).ConfigureAwait(false);
        var body = buffer.ToArray();
        try
        {
            using var doc = JsonDocument.Parse(body, BodyOptions);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return ([], BadRequest("The body must be a JSON object."));
            }
        }
        catch (JsonException)
        {
            return ([], BadRequest("The body is not valid JSON."));
        }

        return (body, null);
    }

    private static bool IsJson(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return false;
        }

        var type = media.MediaType;
        return type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || type.Equals("text/json", StringComparison.OrdinalIgnoreCase)
            || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>UTF-8 JSON that is already serialised, with a status code and an optional Location.</summary>
    private sealed class RawJson(byte[] body, int statusCode = StatusCodes.Status200OK, string? location = null) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = statusCode;
            response.ContentType = JsonUtf8;
            response.ContentLength = body.Length;
            if (location is not null)
            {
                response.Headers.Location = location;
            }

            return response.Body.WriteAsync(body, httpContext.RequestAborted).AsTask();
        }
    }

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Customer not found",
            detail: "No customer with id '" + id + "'.",
            type: "https://sample-api.example/problems/not-found");

    private static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: detail);
}
