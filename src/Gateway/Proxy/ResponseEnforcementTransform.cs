using System.Diagnostics;
using ConsentGateway.Enforcement;
using ConsentGateway.Hosting;
using ConsentGateway.Policy;
using ConsentGateway.Observability;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace ConsentGateway.Proxy;

/// <summary>
/// The response side of enforcement, as a YARP response transform on every route. YARP has no
/// body transforms (dotnet/yarp#1150), so a filtered body is buffered: the transform sets
/// <see cref="ResponseTransformContext.SuppressResponseBody"/>, reads the upstream content
/// (decoding any content coding), filters it and writes it with its exact Content-Length. Headers
/// describing the original bytes (ETag, digests, ranges, encoding) are dropped. Anything it
/// cannot inspect becomes a 502 problem: nothing unfiltered reaches the caller.
/// </summary>
internal sealed partial class ResponseEnforcementTransform(Pseudonymizer pseudonymizer, GatewayMetrics metrics, ILogger<ResponseEnforcementTransform> logger) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.AddResponseTransform(ApplyAsync);

    private async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        var http = context.HttpContext;
        var exchange = http.Features.Get<ConsentExchange>();
        if (exchange is null || context.ProxyResponse is null)
        {
            return;
        }

        var response = http.Response;
        ConsentHeaders.RemoveForged(context.ProxyResponse, response.Headers);
        var rules = exchange.Route.Response;
        var report = exchange.IsReport;
        if ((exchange.DeniedMask & rules.Mask) == 0)
        {
            // This purpose may see every field the response rules name: nothing can be withheld (or
            // would be, in report mode), so the body streams through as YARP sends it, unbuffered.
            MarkPrivateAndDescribe(response.Headers, exchange, rules, report);
            return;
        }

        var blocked = false;
        ulong withheld = 0;
        if (rules.HeaderRules.Length > 0)
        {
            withheld |= HeaderFieldFilter.Apply(response.Headers, rules.HeaderRules, exchange.DeniedMask, report, pseudonymizer, exchange.Subject, ref blocked);
        }

        PooledBufferWriter? output = null;
        try
        {
            var content = context.ProxyResponse.Content;
            // Decided once: Content-Length is parsed from the raw upstream headers on each read.
            var filterBody = rules.BodyFilter is not null && HasBody(http, context.ProxyResponse);
            var refusal = !filterBody ? null
                : !JsonBody.IsInspectable(RawContentType(content)) ? Problem.UpstreamBodyUninspectable
                : content.Headers.ContentLength > exchange.MaxResponseBodyBytes ? Problem.UpstreamBodyTooLarge
                : null;
            if (refusal is not null)
            {
                if (!report)
                {
                    await Fail(context, exchange, refusal).ConfigureAwait(false);
                    return;
                }

                // Report mode never changes traffic: say what enforcement would have done and pass it on.
                LogResponseRefused(logger, exchange.Route.RouteId, "would-" + refusal.Slug);
            }
            else if (filterBody && rules.BodyFilter is { } filter)
            {
                context.SuppressResponseBody = true;
                using var input = new PooledBufferWriter((int)Math.Min(content.Headers.ContentLength ?? 16 * 1024, exchange.MaxResponseBodyBytes));
                var encoding = content.Headers.ContentEncoding.Count == 0 ? null : string.Join(", ", content.Headers.ContentEncoding);
                var stream = await content.ReadAsStreamAsync(context.CancellationToken).ConfigureAwait(false);
                var read = await JsonBody.ReadAsync(stream, encoding, exchange.MaxResponseBodyBytes, input, context.CancellationToken).ConfigureAwait(false);
                if (read != BodyReadStatus.Ok)
                {
                    var problem = read switch
                    {
                        BodyReadStatus.TooLarge => Problem.UpstreamBodyTooLarge,
                        BodyReadStatus.UnsupportedEncoding => Problem.UpstreamBodyUninspectable,
                        _ => Problem.UpstreamBodyInvalid,
                    };
                    await Fail(context, exchange, problem).ConfigureAwait(false);
                    return;
                }

                var started = Stopwatch.GetTimestamp();
                output = new PooledBufferWriter(input.WrittenCount);
                var result = BodyActions.Filter(filter, rules.BodyRules, input.WrittenSpan, exchange.DeniedMask, exchange.SubjectUtf8, output, pseudonymizer);
                metrics.ResponseEnforcementDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                if (result.Status is JsonFilterStatus.Malformed or JsonFilterStatus.TooDeep or JsonFilterStatus.InvalidUtf8)
                {
                    LogUpstreamBodyInvalid(logger, exchange.Route.RouteId, result.Status.ToString());
                    await Fail(context, exchange, Problem.UpstreamBodyInvalid).ConfigureAwait(false);
                    return;
                }

                blocked |= result.Status == JsonFilterStatus.Blocked;
                withheld |= result.WithheldMask;
                if (report)
                {
                    // Dry run: forward what the upstream sent (decoded), untouched.
                    output.Clear();
                    input.WrittenSpan.CopyTo(output.GetSpan(input.WrittenCount));
                    output.Advance(input.WrittenCount);
                }
            }

            exchange.WithheldMask |= withheld;
            if (blocked && !report)
            {
                exchange.Blocked = true;
                context.SuppressResponseBody = true;
                var categories = exchange.CategoryList(exchange.WithheldMask);
                await ConsentHeaders.WriteBlockedAsync(http, categories).ConfigureAwait(false);
                return;
            }

            var headers = response.Headers;
            MarkPrivateAndDescribe(headers, exchange, rules, report);

            if (output is not null)
            {
                headers.Remove(HeaderNames.ETag);
                headers.Remove(HeaderNames.ContentMD5);
                headers.Remove("Digest");
                headers.Remove("Content-Digest");
                headers.Remove(HeaderNames.ContentRange);
                headers.Remove(HeaderNames.ContentEncoding);
                headers.Remove(HeaderNames.TransferEncoding);
                response.ContentLength = output.WrittenCount;
                await response.Body.WriteAsync(output.WrittenMemory, context.CancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // Kestrel copies what WriteAsync is given into its own buffers, so the output can go back to the pool now
            // rather than through a per-request on-completed callback.
            output?.Dispose();
        }
    }

    private static void MarkPrivateAndDescribe(IHeaderDictionary headers, ConsentExchange exchange, DirectionRules rules, bool report)
    {
        if (!rules.IsEmpty && !report)
        {
            // The answer depended on this subject's consent, filtered or not: a shared cache must
            // never serve one subject's view to another caller.
            headers.CacheControl = PrivateCacheControl(headers.CacheControl.ToString());
        }

        ConsentHeaders.Describe(headers, exchange, exchange.WithheldMask);
    }

    /// <summary>
    /// The upstream's Content-Type as sent, when it sent exactly one: reading ContentType would parse it
    /// into a typed value (and ToString() would allocate it again) only for IsInspectable to parse it once
    /// more. Several Content-Type lines are ambiguous, so they count as none (not inspectable).
    /// </summary>
    private static string? RawContentType(HttpContent content) =>
        content.Headers.NonValidated.TryGetValues("Content-Type", out var values) && values.Count == 1 ? values.ToString() : null;

    private static bool HasBody(HttpContext http, HttpResponseMessage upstream)
    {
        var status = (int)upstream.StatusCode;
        if (HttpMethods.IsHead(http.Request.Method) || status is 204 or 304 || status < 200)
        {
            return false;
        }

        return upstream.Content.Headers.ContentLength != 0;
    }

    private static string PrivateCacheControl(string existing)
    {
        if (existing.Length == 0)
        {
            return "private";
        }

        if (existing.Contains("no-store", StringComparison.OrdinalIgnoreCase) || existing.Contains("private", StringComparison.OrdinalIgnoreCase))
        {
            return existing;
        }

        var kept = new List<string> { "private" };
        foreach (var directive in existing.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!directive.Equals("public", StringComparison.OrdinalIgnoreCase) && !directive.StartsWith("s-maxage", StringComparison.OrdinalIgnoreCase))
            {
                kept.Add(directive);
            }
        }

        return string.Join(", ", kept);
    }

    private ValueTask Fail(ResponseTransformContext context, ConsentExchange exchange, Problem problem)
    {
        context.SuppressResponseBody = true;
        exchange.ResponseFailed = true;
        LogResponseRefused(logger, exchange.Route.RouteId, problem.Slug);
        return new ValueTask(problem.WriteAsync(context.HttpContext));
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Upstream response on route {RouteId} refused: {Problem}")]
    private static partial void LogResponseRefused(ILogger logger, string routeId, string problem);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Upstream body on route {RouteId} could not be filtered: {Status}")]
    private static partial void LogUpstreamBodyInvalid(ILogger logger, string routeId, string status);
}
