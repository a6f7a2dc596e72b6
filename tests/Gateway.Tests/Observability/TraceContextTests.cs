using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using ConsentGateway.Tests.Infrastructure;
using static ConsentGateway.Tests.Infrastructure.GatewayHost;

namespace ConsentGateway.Tests.Observability;

/// <summary>
/// The gateway starts no per-request Activity unless a tracer listens (see AddPrivacyFilters), and a
/// trace stays connected across it either way. The two tests share a class so that they never run at
/// the same time: an ActivityListener is process-wide.
/// </summary>
public sealed class TraceContextTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task Without_a_tracer_the_callers_trace_context_reaches_the_upstream_unchanged()
    {
        var (traceparent, _, _) = NewTraceparent();
        fixture.Upstream.Reset();
        using var response = await SendAsync(traceparent, "vendor=opaque");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Had the gateway started an Activity, the forwarded call would carry that Activity's span id.
        var received = fixture.Upstream.OnlyRequest();
        Assert.Equal(traceparent, received.Header("traceparent"));
        Assert.Equal("vendor=opaque", received.Header("tracestate"));
    }

    [Fact]
    public async Task A_tracer_on_the_AspNetCore_source_gets_a_span_per_proxied_request_in_the_callers_trace()
    {
        var (traceparent, traceId, parentSpanId) = NewTraceparent();
        var started = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == "Microsoft.AspNetCore",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = started.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        fixture.Upstream.Reset();
        using var response = await SendAsync(traceparent, tracestate: null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The gateway's span is the caller's span's child; the upstream's (this process hosts it too) is a grandchild.
        Assert.Contains(started, a => a.TraceId.ToHexString() == traceId && a.ParentSpanId.ToHexString() == parentSpanId);
        var forwarded = fixture.Upstream.OnlyRequest().Header("traceparent");
        Assert.NotNull(forwarded);
        Assert.StartsWith("00-" + traceId + "-", forwarded, StringComparison.Ordinal);
        Assert.DoesNotContain(parentSpanId, forwarded, StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> SendAsync(string traceparent, string? tracestate)
    {
        using var request = Request(HttpMethod.Post, "/customers/x", "marketing", GatewayFixture.NewSubject());
        request.Content = Json("""{"email":"ann@example.com","tier":"gold"}""");
        Assert.True(request.Headers.TryAddWithoutValidation("traceparent", traceparent));
        if (tracestate is not null)
        {
            Assert.True(request.Headers.TryAddWithoutValidation("tracestate", tracestate));
        }

        var response = await fixture.Gateway.Proxy.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static (string Traceparent, string TraceId, string SpanId) NewTraceparent()
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var spanId = ActivitySpanId.CreateRandom().ToHexString();
        return ($"00-{traceId}-{spanId}-01", traceId, spanId);
    }
}
