namespace ConsentGateway.LoadTests.Engine;

/// <summary>How load is injected.</summary>
internal enum LoadModel
{
    /// <summary>Closed model: a fixed number of workers, each sending its next request when the previous answer arrived.</summary>
    Closed,

    /// <summary>Open model: requests fired at scheduled times (fixed rate, or a linear ramp), never waiting for answers.</summary>
    Open,
}

/// <summary>The load shape of a scenario.</summary>
/// <param name="Model">closed or open.</param>
/// <param name="Concurrency">closed: workers; open: the HTTP connection limit.</param>
/// <param name="Rate">open: requests per second at the start.</param>
/// <param name="RateEnd">open: requests per second at the end (equal to <paramref name="Rate"/> for a fixed rate).</param>
internal sealed record LoadShape(LoadModel Model, int Concurrency, double Rate = 0, double RateEnd = 0)
{
    public static LoadShape ClosedModel(int concurrency) => new(LoadModel.Closed, concurrency);

    public static LoadShape FixedRate(double rate, int connections) => new(LoadModel.Open, connections, rate, rate);

    public static LoadShape Ramp(double from, double to, int connections) => new(LoadModel.Open, connections, from, to);

    public override string ToString() => Model == LoadModel.Closed
        ? $"closed, {Concurrency} workers"
        : Rate.Equals(RateEnd) ? $"open, {Rate:0} req/s" : $"open, ramp {Rate:0}→{RateEnd:0} req/s";
}

/// <summary>
/// One request to send and what its answer must not contain. Answers of targets that do not enforce
/// (the upstream, plain YARP) are scanned for the same values without counting them as leaks
/// (<paramref name="CountsLeaks"/> false), so the load generator, which shares the machine's cores
/// with the proxies, does the same work per answer on both sides of a comparison.
/// </summary>
internal readonly record struct RequestSpec(HttpRequestMessage Request, IReadOnlyList<byte[]> Forbidden, bool CountsLeaks = true);

/// <summary>A threshold on a scenario's result; a failed threshold with <see cref="FailsRun"/> fails the run.</summary>
internal sealed record Threshold(string Name, Func<ScenarioResult, double> Metric, string Op, double Limit, bool FailsRun = true)
{
    public bool Evaluate(ScenarioResult r) => Op switch
    {
        "<=" => Metric(r) <= Limit,
        ">=" => Metric(r) >= Limit,
        "==" => Metric(r).Equals(Limit),
        _ => throw new InvalidOperationException($"unknown operator {Op}"),
    };
}

/// <summary>A named scenario: target, load shape, request factory, thresholds and optional hooks.</summary>
internal sealed class Scenario
{
    public required string Name { get; init; }

    /// <summary>direct, yarp or gateway.</summary>
    public required string Target { get; init; }

    public required string Description { get; init; }

    /// <summary>e.g. "GET 8 KB".</summary>
    public required string Payload { get; init; }

    public required LoadShape Shape { get; init; }

    /// <summary>
    /// The bed process (a proxy) whose upstream pool the opening fills to the load's connection limit
    /// (<see cref="UpstreamPoolFill"/>); null to open without holding the upstream.
    /// </summary>
    public string? UpstreamPoolOf { get; init; }

    /// <summary>Builds request number i (its subject, body and the markers its answer must not contain).</summary>
    public required Func<long, RequestSpec> CreateRequest { get; init; }

    public IReadOnlyList<Threshold> Thresholds { get; init; } = [];

    /// <summary>Runs before the warm-up (e.g. stop Redis).</summary>
    public Func<CancellationToken, Task>? Before { get; init; }

    /// <summary>Runs alongside the measured phase (e.g. consent churn); returns a note for the report.</summary>
    public Func<CancellationToken, Task<string>>? Background { get; init; }

    /// <summary>Runs after the measured phase.</summary>
    public Func<CancellationToken, Task>? After { get; init; }
}
