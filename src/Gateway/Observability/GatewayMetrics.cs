using System.Runtime.CompilerServices;
using ConsentGateway.Policy;
using Prometheus;

namespace ConsentGateway.Observability;

/// <summary>
/// Every metric the gateway exports. Names and labels are a contract with dashboards (SPEC §7):
/// label values come only from configuration (route ids, purpose names, categories) or from
/// small fixed vocabularies, never from request data, so series counts stay bounded.
/// </summary>
internal sealed class GatewayMetrics
{
    // Exponential buckets from 100 µs: the default 5 ms floor is coarser than the proxy itself.
    private static readonly double[] LatencyBuckets = Histogram.ExponentialBuckets(0.0001, 2, 18);

    public GatewayMetrics(CollectorRegistry? registry = null)
    {
        var factory = Metrics.WithCustomRegistry(registry ?? Metrics.DefaultRegistry);

        // Exemplars would attach the current trace id to every observation: a per-request cost
        // (measured in the load-test profile) for data nothing here exports in OpenMetrics form.
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        Requests = factory.CreateCounter("gateway_requests_total", "Proxied requests by route, purpose and decision.",
            new CounterConfiguration { LabelNames = ["route", "purpose", "decision"] });
        FieldsWithheld = factory.CreateCounter("gateway_fields_withheld_total", "Personal fields withheld (or, in report mode, that would have been).",
            new CounterConfiguration { LabelNames = ["route", "purpose", "category", "action"] });
        RequestDuration = factory.CreateHistogram("gateway_request_duration_seconds", "Time from request arrival to response completion at the gateway.",
            new HistogramConfiguration { LabelNames = ["route"], Buckets = LatencyBuckets });
        EnforcementDuration = factory.CreateHistogram("gateway_enforcement_duration_seconds", "Time spent filtering one direction of one exchange.",
            new HistogramConfiguration { LabelNames = ["direction"], Buckets = LatencyBuckets });
        ConsentLookups = factory.CreateCounter("consent_lookups_total", "Consent lookups by the tier that answered and the result.",
            new CounterConfiguration { LabelNames = ["tier", "result"] });
        StoreDuration = factory.CreateHistogram("consent_store_duration_seconds", "Round trips to the consent store (L2).",
            new HistogramConfiguration { Buckets = LatencyBuckets });
        StoreUp = factory.CreateGauge("consent_store_up", "1 when the consent store is reachable (and, for Redis, subscribed to changes).");
        Invalidations = factory.CreateCounter("consent_invalidations_total", "L1 evictions caused by consent change notifications or subscription loss.");
        PolicyReloads = factory.CreateCounter("gateway_policy_reloads_total", "Policy reloads by result.",
            new CounterConfiguration { LabelNames = ["result"] });
        var eventBatches = factory.CreateCounter("consent_event_batches_total", "Consent event batches (POST /v1/consent-events) by result: accepted, rejected, incomplete.",
            new CounterConfiguration { LabelNames = ["result"] });
        var events = factory.CreateCounter("consent_events_total", "Events of consent event batches that passed validation, by what happened to each.",
            new CounterConfiguration { LabelNames = ["result"] });
        ConsentEvents = new ConsentEventInstruments(eventBatches, events);
        RequestEnforcementDuration = EnforcementDuration.WithLabels("request");
        ResponseEnforcementDuration = EnforcementDuration.WithLabels("response");
    }

    public Counter Requests { get; }
    public Counter FieldsWithheld { get; }
    public Histogram RequestDuration { get; }
    public Histogram EnforcementDuration { get; }
    public Counter ConsentLookups { get; }
    public Histogram StoreDuration { get; }
    public Gauge StoreUp { get; }
    public Counter Invalidations { get; }
    public Counter PolicyReloads { get; }

    /// <summary>The pre-bound series of the two consent event counters (SPEC §7 does not list them: an addition).</summary>
    public ConsentEventInstruments ConsentEvents { get; }

    public Histogram.Child RequestEnforcementDuration { get; }

    public Histogram.Child ResponseEnforcementDuration { get; }

    /// <summary>
    /// The per-route series, bound once per compiled route so a request indexes arrays instead of
    /// hashing label values. Keyed weakly: a reloaded policy's old routes are collected with it.
    /// </summary>
    public RouteInstruments For(RoutePolicy route, int purposeCount) =>
        _routes.TryGetValue(route, out var instruments) ? instruments
            : _routes.GetValue(route, r => new RouteInstruments(this, r, purposeCount));

    private readonly ConditionalWeakTable<RoutePolicy, RouteInstruments> _routes = [];
}
