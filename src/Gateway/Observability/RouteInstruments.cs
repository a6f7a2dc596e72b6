using ConsentGateway.Enforcement;
using ConsentGateway.Policy;
using Prometheus;

namespace ConsentGateway.Observability;

/// <summary>The final decision recorded in <c>gateway_requests_total</c>.</summary>
internal enum RequestDecision
{
    Allowed,
    Filtered,
    Reported,
    Blocked,
    Rejected,
    Error,
}

/// <summary>
/// One route's metric series, resolved lazily and then reused: label values come from the compiled
/// policy (route id, purpose names, rule categories), so the number of series stays what SPEC §7
/// promises and each request costs an array read instead of a label lookup.
/// </summary>
internal sealed class RouteInstruments
{
    private static readonly string[] DecisionLabels = ["allowed", "filtered", "reported", "blocked", "rejected", "error"];
    private const int Decisions = 6;

    private readonly GatewayMetrics _metrics;
    private readonly RoutePolicy _route;
    private readonly int _purposeCount;
    private readonly Counter.Child?[] _requests;
    private readonly Counter.Child?[] _withheld;

    public RouteInstruments(GatewayMetrics metrics, RoutePolicy route, int purposeCount)
    {
        _metrics = metrics;
        _route = route;
        _purposeCount = purposeCount;
        _requests = new Counter.Child?[purposeCount * Decisions];
        _withheld = new Counter.Child?[route.Rules.Length * purposeCount * 2];
        Duration = metrics.RequestDuration.WithLabels(route.RouteId);
    }

    public Histogram.Child Duration { get; }

    public static string DecisionLabel(RequestDecision decision) => DecisionLabels[(int)decision];

    public Counter.Child Requests(Purpose purpose, RequestDecision decision)
    {
        ref var slot = ref _requests[(purpose.Index * Decisions) + (int)decision];
        return slot ??= _metrics.Requests.WithLabels(_route.RouteId, purpose.Name, DecisionLabels[(int)decision]);
    }

    public Counter.Child Withheld(FieldRule rule, Purpose purpose, bool report)
    {
        ref var slot = ref _withheld[(((rule.Index * _purposeCount) + purpose.Index) * 2) + (report ? 1 : 0)];
        return slot ??= _metrics.FieldsWithheld.WithLabels(_route.RouteId, purpose.Name, rule.Category, ActionLabel(rule.DeniedAction, report));
    }

    private static string ActionLabel(FieldAction action, bool report) => (action, report) switch
    {
        (FieldAction.Strip, false) => "strip",
        (FieldAction.Redact, false) => "redact",
        (FieldAction.Hash, false) => "hash",
        (FieldAction.Block, false) => "block",
        (FieldAction.Strip, true) => "would-strip",
        (FieldAction.Redact, true) => "would-redact",
        (FieldAction.Hash, true) => "would-hash",
        _ => "would-block",
    };
}
