using System.Diagnostics;
using ConsentGateway.Consent;
using ConsentGateway.Enforcement;
using ConsentGateway.Hosting;
using ConsentGateway.Observability;
using ConsentGateway.Policy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace ConsentGateway.Proxy;

/// <summary>
/// The request side of enforcement, running inside YARP's proxy pipeline just before the
/// forwarder: authenticate the caller, resolve purpose and subject, look up consent, decide per
/// rule, filter headers, query and body, then hand the (possibly replaced) request to YARP.
/// Nothing is forwarded unless every step succeeded. The response side runs in
/// <see cref="ResponseEnforcementTransform"/> with the <see cref="ConsentExchange"/> stored here.
/// </summary>
internal sealed partial class ConsentEnforcementMiddleware(
    RequestDelegate next,
    PolicyProvider policies,
    IConsentLookup consent,
    Pseudonymizer pseudonymizer,
    GatewayMetrics metrics,
    TimeProvider time,
    ILogger<ConsentEnforcementMiddleware> logger)
{
    /// <remarks>
    /// Split in two for allocation: forwarding (<c>await next</c>) always completes asynchronously,
    /// so whatever async method awaits it allocates its state machine box with every local it
    /// keeps across that await. <see cref="AdmitAsync"/> does everything up to forwarding; its
    /// awaits normally complete synchronously (no body to read, subject not from a JWT, consent
    /// in L1 or not needed), and then it returns without boxing anything. Only the few values
    /// forwarding needs are carried into <see cref="ForwardAsync"/>, whose box is small.
    /// </remarks>
    public Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var admitting = AdmitAsync(context, started);
        if (!admitting.IsCompletedSuccessfully)
        {
            return AdmitSlowlyThenForwardAsync(context, admitting, started);
        }

        return admitting.Result is { } admission
            ? ForwardAsync(context, admission.Exchange, admission.Instruments, admission.Body, started)
            : Task.CompletedTask;
    }

    /// <summary>The slow path: a body to read, a consent lookup beyond L1, a JWT, a slow refusal write, or an exception.</summary>
    private async Task AdmitSlowlyThenForwardAsync(HttpContext context, ValueTask<Admission?> admitting, long started)
    {
        if (await admitting.ConfigureAwait(false) is { } admission)
        {
            await ForwardAsync(context, admission.Exchange, admission.Instruments, admission.Body, started).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Everything before forwarding. Returns null when the request was refused (and answered here);
    /// otherwise the request is ready to forward and the returned admission owns the buffered body.
    /// </summary>
    private async ValueTask<Admission?> AdmitAsync(HttpContext context, long started)
    {
        var policy = policies.Current;
        var routeId = context.GetReverseProxyFeature().Route.Config.RouteId;

        if (!policy.Routes.TryGetValue(routeId, out var route))
        {
            LogRouteWithoutPolicy(logger, routeId);
            await Reject(context, Problem.RoutePolicyMissing, routeId, null, null, started).ConfigureAwait(false);
            return null;
        }

        var instruments = metrics.For(route, policy.PurposesByIndex.Length);

        Purpose? purpose = null;
        var identity = IdentityHeaders.Find(context.Request.Headers, route);
        var problem = RequestIdentity.AuthenticateCaller(identity.ApiKey, policy, out var caller)
            ?? RequestIdentity.ResolvePurpose(identity.Purpose, route, policy, caller!, out purpose);
        if (problem is not null)
        {
            await Reject(context, problem, routeId, null, null, started).ConfigureAwait(false);
            return null;
        }

        // The forwarded request body may be this pooled buffer (or its filtered copy), so it must outlive forwarding:
        // once the request is admitted, ForwardAsync owns it and disposes it when forwarding and
        // its bookkeeping are done (as the whole-request `using` used to). Disposing it here
        // instead would hand YARP returned memory; RegisterForDispose would keep it alive too, but
        // adds an on-completed callback (and Kestrel's work to run it) to every request. On refusal (or an exception)
        // it is disposed here, after the refusal was written, as before.
        var body = new RequestBody();
        var admitted = false;
        try
        {
            problem = await ReadBodyIfNeeded(context, route, policy.Limits, body).ConfigureAwait(false);
            string subject = string.Empty;
            if (problem is null)
            {
                (problem, subject) = await ResolveSubject(context, route, policy.Limits, body, identity.Subject).ConfigureAwait(false);
            }

            if (problem is not null)
            {
                await Reject(context, problem, routeId, instruments, purpose, started).ConfigureAwait(false);
                return null;
            }

            var allowed = await Decide(context, purpose!, subject).ConfigureAwait(false);
            var exchange = new ConsentExchange
            {
                Route = route,
                Purpose = purpose!,
                Subject = subject,
                SubjectUtf8 = RequestIdentity.SubjectBytes(subject),
                DeniedMask = route.AllRulesMask & ~(allowed ? route.DeclaredByPurpose[purpose!.Index] : 0UL),
                MaxResponseBodyBytes = policy.Limits.MaxResponseBodyBytes,
            };

            problem = FilterRequest(context, exchange, body, identity.ApiKey.Spelling!);
            if (problem is not null)
            {
                var categories = exchange.Blocked ? exchange.CategoryList(exchange.WithheldMask) : null;
                CountWithheld(instruments, exchange, exchange.WithheldMask);
                await Reject(context, problem, routeId, instruments, purpose, started, categories).ConfigureAwait(false);
                return null;
            }

            admitted = true;
            return new Admission(exchange, instruments, body);
        }
        finally
        {
            if (!admitted)
            {
                body.Dispose();
            }
        }
    }

    /// <summary>
    /// Forwards an admitted request, then records the outcome. Takes only what that needs (the
    /// exchange carries the purpose), since all of it lives in the state machine box.
    /// </summary>
    private async Task ForwardAsync(HttpContext context, ConsentExchange exchange, RouteInstruments instruments, RequestBody body, long started)
    {
        using (body)
        {
            context.Features.Set(exchange);
            await next(context).ConfigureAwait(false);

            var error = context.GetForwarderErrorFeature();
            if (error is not null && !context.Response.HasStarted)
            {
                var upstream = error.Error is ForwarderError.RequestTimedOut ? Problem.UpstreamTimeout : Problem.UpstreamUnavailable;
                await upstream.WriteAsync(context).ConfigureAwait(false);
            }

            CountWithheld(instruments, exchange, exchange.WithheldMask);
            var decision = exchange.Blocked ? RequestDecision.Blocked
                : exchange.ResponseFailed || error is not null ? RequestDecision.Error
                : exchange.WithheldMask == 0 ? RequestDecision.Allowed
                : exchange.IsReport ? RequestDecision.Reported : RequestDecision.Filtered;
            instruments.Requests(exchange.Purpose, decision).Inc();
            instruments.Duration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>The subject from the already buffered body, or else from where the route says.</summary>
    private static ValueTask<(Problem? Problem, string Subject)> ResolveSubject(HttpContext context, RoutePolicy route, PolicyLimits limits, RequestBody body, IdentityHeader subjectHeader)
    {
        if (route.SubjectFrom != SubjectFrom.Body)
        {
            return RequestIdentity.ResolveSubjectAsync(context, route, subjectHeader);
        }

        if (body.Bytes is null)
        {
            return new((Problem.SubjectMissing, string.Empty));
        }

        var problem = RequestIdentity.ResolveFromBody(body.Bytes.WrittenSpan, route, limits.MaxJsonDepth, out var subject);
        return new((problem, subject));
    }

    /// <remarks>Not an async method: a lookup served from L1 completes synchronously, and then no state machine runs.</remarks>
    private ValueTask<bool> Decide(HttpContext context, Purpose purpose, string subject)
    {
        if (!ConsentEvaluator.NeedsLookup(purpose))
        {
            return new(true);
        }

        var lookup = consent.LookupAsync(subject, context.RequestAborted);
        return lookup.IsCompletedSuccessfully
            ? new(Allows(context, purpose, lookup.Result))
            : DecideAsync(context, purpose, lookup);
    }

    private async ValueTask<bool> DecideAsync(HttpContext context, Purpose purpose, ValueTask<ConsentLookupResult> lookup) =>
        Allows(context, purpose, await lookup.ConfigureAwait(false));

    private bool Allows(HttpContext context, Purpose purpose, in ConsentLookupResult lookup)
    {
        // Global Privacy Control only bears on opt-out purposes (sale and sharing): skip the header lookup for the rest.
        var gpc = purpose.Basis == LegalBasis.OptOut
            && context.Request.Headers.TryGetValue("Sec-GPC", out var gpcValues) && gpcValues.Contains("1");
        return ConsentEvaluator.Allows(purpose, lookup, gpc, time.GetUtcNow());
    }

    private static async ValueTask<Problem?> ReadBodyIfNeeded(HttpContext context, RoutePolicy route, PolicyLimits limits, RequestBody body)
    {
        var request = context.Request;
        var needsBody = route.Request.HasBodyRules || route.SubjectFrom == SubjectFrom.Body;
        var canHaveBody = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? request.ContentLength > 0;
        if (!needsBody || !canHaveBody || request.ContentLength == 0)
        {
            return null;
        }

        if (!JsonBody.IsInspectable(request.ContentType))
        {
            return Problem.UnsupportedMediaType;
        }

        if (request.ContentLength > limits.MaxRequestBodyBytes)
        {
            return Problem.BodyTooLarge;
        }

        body.Bytes = new PooledBufferWriter((int)Math.Min(request.ContentLength ?? 16 * 1024, limits.MaxRequestBodyBytes));
        var status = await JsonBody.ReadAsync(request.Body, request.Headers.ContentEncoding, limits.MaxRequestBodyBytes, body.Bytes, context.RequestAborted).ConfigureAwait(false);
        return status switch
        {
            BodyReadStatus.TooLarge => Problem.BodyTooLarge,
            BodyReadStatus.UnsupportedEncoding => Problem.UnsupportedEncoding,
            BodyReadStatus.CorruptEncoding => Problem.JsonMalformed,
            _ => null,
        };
    }

    /// <summary>Applies request-direction rules. Returns the problem that stops the request, if any.</summary>
    /// <param name="keyHeader">The header the caller's API key came in, in the spelling it was sent.</param>
    private Problem? FilterRequest(HttpContext context, ConsentExchange exchange, RequestBody body, string keyHeader)
    {
        var request = context.Request;
        var rules = exchange.Route.Request;
        var report = exchange.IsReport;
        var blocked = false;
        ulong withheld = 0;
        if (rules.HeaderRules.Length > 0)
        {
            withheld |= HeaderFieldFilter.Apply(request.Headers, rules.HeaderRules, exchange.DeniedMask, report, pseudonymizer, exchange.Subject, ref blocked);
        }

        if (rules.QueryRules.Length > 0)
        {
            withheld |= HeaderFieldFilter.ApplyQuery(request, rules.QueryRules, exchange.DeniedMask, report, pseudonymizer, exchange.Subject, ref blocked);
        }

        if (body.Bytes is not null && rules.BodyFilter is { } filter)
        {
            var started = Stopwatch.GetTimestamp();
            // Held with the read body, so it too lives until forwarding is done (see RequestBody).
            var output = body.Filtered = new PooledBufferWriter(body.Bytes.WrittenCount);
            var result = BodyActions.Filter(filter, rules.BodyRules, body.Bytes.WrittenSpan, exchange.DeniedMask, exchange.SubjectUtf8, output, pseudonymizer);
            metrics.RequestEnforcementDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            switch (result.Status)
            {
                case JsonFilterStatus.Malformed: return Problem.JsonMalformed;
                case JsonFilterStatus.TooDeep: return Problem.JsonTooDeep;
                case JsonFilterStatus.InvalidUtf8: return Problem.JsonInvalidUtf8;
                case JsonFilterStatus.Blocked: blocked = true; break;
            }

            withheld |= result.WithheldMask;
            if (!report)
            {
                // The upstream sees exactly the re-serialised document the gateway checked.
                ReplaceBody(request, output);
            }
        }

        if (body.Bytes is not null && request.Body is not ReadOnlyMemoryStream)
        {
            // The body was consumed to find the subject or to report on it: forward it as read.
            ReplaceBody(request, body.Bytes);
        }

        exchange.WithheldMask = withheld;
        exchange.RequestWithheldMask = withheld;
        if (blocked && !report)
        {
            exchange.Blocked = true;
            return Problem.Blocked;
        }

        if ((exchange.DeniedMask & exchange.Route.Response.Mask) != 0 && !report)
        {
            // The response filter must see plain, whole JSON: no compression, no partial ranges.
            request.Headers.Remove("Accept-Encoding");
            request.Headers.Remove("Range");
            request.Headers.Remove("If-Range");
        }

        // The key authenticates the caller to the gateway only: an upstream (or its logs) never sees it, in
        // whichever spelling it came (X_Api_Key authenticates too: see HeaderSpelling; a second spelling is refused).
        // (The consent headers go on the forwarded message itself: see ConsentRequestTransform.)
        request.Headers.Remove(keyHeader);

        return null;
    }

    private static void ReplaceBody(HttpRequest request, PooledBufferWriter content)
    {
        request.Body = new ReadOnlyMemoryStream(content.WrittenMemory);
        request.ContentLength = content.WrittenCount;
        request.Headers.Remove("Transfer-Encoding");
        request.Headers.Remove("Content-Encoding");
    }

    private void CountWithheld(RouteInstruments instruments, ConsentExchange exchange, ulong mask)
    {
        if (mask == 0)
        {
            return;
        }

        var rules = exchange.Route.Rules;
        for (var bits = mask; bits != 0; bits &= bits - 1)
        {
            instruments.Withheld(rules[System.Numerics.BitOperations.TrailingZeroCount(bits)], exchange.Purpose, exchange.IsReport).Inc();
        }

        if (logger.IsEnabled(LogLevel.Debug))
        {
            var categories = exchange.WithheldCategories(mask);
            LogWithheld(logger, exchange.Route.RouteId, exchange.Purpose.Name, exchange.IsReport, categories);
        }
    }

    /// <summary>Answers with <paramref name="problem"/>; <paramref name="purpose"/> is null when the request was refused before one was known.</summary>
    private async Task Reject(HttpContext context, Problem problem, string routeId, RouteInstruments? instruments, Purpose? purpose, long started, List<string>? categories = null)
    {
        if (categories is null)
        {
            await problem.WriteAsync(context).ConfigureAwait(false);
        }
        else
        {
            await ConsentHeaders.WriteBlockedAsync(context, categories).ConfigureAwait(false);
        }

        LogRejected(logger, routeId, purpose?.Name ?? "none", problem.Slug, problem.Status);
        var decision = problem == Problem.Blocked ? RequestDecision.Blocked : RequestDecision.Rejected;
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (instruments is not null && purpose is not null)
        {
            instruments.Requests(purpose, decision).Inc();
            instruments.Duration.Observe(elapsed);
        }
        else
        {
            // Refused before a purpose was known (or on a route without policy): rare, so label lookups are fine.
            metrics.Requests.WithLabels(routeId, "none", RouteInstruments.DecisionLabel(decision)).Inc();
            metrics.RequestDuration.WithLabels(routeId).Observe(elapsed);
        }
    }

    /// <summary>What an admitted request carries from <see cref="AdmitAsync"/> into <see cref="ForwardAsync"/>.</summary>
    private readonly record struct Admission(ConsentExchange Exchange, RouteInstruments Instruments, RequestBody Body);

    /// <summary>The buffered request body and its filtered copy, whose pooled memory lives until forwarding is done.</summary>
    private sealed class RequestBody : IDisposable
    {
        public PooledBufferWriter? Bytes { get; set; }

        public PooledBufferWriter? Filtered { get; set; }

        public void Dispose()
        {
            Bytes?.Dispose();
            Filtered?.Dispose();
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "Route {RouteId} has no consent policy; request refused")]
    private static partial void LogRouteWithoutPolicy(ILogger logger, string routeId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "Request refused on route {RouteId} for purpose {Purpose}: {Problem} ({Status})")]
    private static partial void LogRejected(ILogger logger, string routeId, string purpose, string problem, int status);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "Route {RouteId} purpose {Purpose} report={Report}: withheld categories {Categories}")]
    private static partial void LogWithheld(ILogger logger, string routeId, string purpose, bool report, string categories);
}
