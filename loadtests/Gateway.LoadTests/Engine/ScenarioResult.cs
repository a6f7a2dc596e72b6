namespace ConsentGateway.LoadTests.Engine;

/// <summary>What one scenario measured. Latencies in milliseconds.</summary>
internal sealed class ScenarioResult
{
    public required string Name { get; init; }

    public required string Target { get; init; }

    public required string Description { get; init; }

    public required string Payload { get; init; }

    public required string Load { get; init; }

    public double DurationSeconds { get; set; }

    public long Requests { get; set; }

    public long Ok { get; set; }

    public long Errors { get; set; }

    public long Status5xx { get; set; }

    public long Leaked { get; set; }

    /// <summary>Answers carrying one of the request's marker values, enforcing target or not (see <see cref="RequestSpec"/>).</summary>
    public long WithMarker { get; set; }

    public double ThroughputRps { get; set; }

    public double OfferedRps { get; set; }

    public double MeanMs { get; set; }

    public double P50Ms { get; set; }

    public double P75Ms { get; set; }

    public double P95Ms { get; set; }

    public double P99Ms { get; set; }

    public double P999Ms { get; set; }

    public double MaxMs { get; set; }

    /// <summary>Closed model: the expected interval given to RecordValueWithExpectedInterval (ms).</summary>
    public double ExpectedIntervalMs { get; set; }

    /// <summary>Histogram values recorded (closed model: includes the coordinated-omission back-fill).</summary>
    public long RecordedValues { get; set; }

    public double MegabytesReceived { get; set; }

    public SortedDictionary<string, long> ByStatus { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Interleaved rounds the measured time was split into (1 = one block).</summary>
    public int Rounds { get; set; } = 1;

    /// <summary>The p99 of each round alone (ms), in the order run; paired with the same round of a compared scenario.</summary>
    public List<double> RoundP99Ms { get; init; } = [];

    /// <summary>The slowest request of each round (ms), in the order run.</summary>
    public List<double> RoundMaxMs { get; init; } = [];

    /// <summary>When each round began (UTC), to line a round up with what the proxies' own counters saw then.</summary>
    public List<DateTime> RoundStartedUtc { get; init; } = [];

    /// <summary>
    /// When the slowest request of each round was due to be sent (UTC; its scheduled time in the open
    /// model, so a stall shows where it began, not where the queue behind it drained).
    /// </summary>
    public List<DateTime> RoundSlowestSentUtc { get; init; } = [];

    /// <summary>Each round's throughput (answers per second of that round), in the order run.</summary>
    public List<double> RoundThroughputRps { get; init; } = [];

    /// <summary>The most connections the load generator may open to the target (its SocketsHttpHandler's limit).</summary>
    public int ConnectionLimit { get; set; }

    /// <summary>Connections the load generator opened to the target before the measured rounds (see <see cref="LoadClient"/>).</summary>
    public long ConnectionsOpenedAhead { get; set; }

    /// <summary>Connections it opened during each measured round, in the order run: zero unless the opening fell short.</summary>
    public List<long> RoundConnectionsOpened { get; init; } = [];

    /// <summary>
    /// Established connections each bed process (by name) held to the upstream at the start of the first
    /// measured round, when measurable (<see cref="UpstreamSockets"/>); empty otherwise.
    /// </summary>
    public Dictionary<string, long> UpstreamConnectionsAhead { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Connections each bed process opened to the upstream during each measured round, in the order run, when measurable.</summary>
    public Dictionary<string, List<long>> RoundUpstreamConnectionsOpened { get; init; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Each round's share (0–1) of the machine's CPU used by processes outside the test bed (other
    /// tenants, steal), when measurable (<see cref="HostCpu"/>); empty otherwise.
    /// </summary>
    public List<double> RoundForeignCpu { get; init; } = [];

    /// <summary>
    /// Each round's CPU time per answered request (µs) of each bed process (load generator, sampleapi,
    /// gateway, plainproxy, redis-server), by name, when measurable; empty otherwise.
    /// </summary>
    public Dictionary<string, List<double>> RoundCpuPerRequestUs { get; init; } = new(StringComparer.Ordinal);

    public string? Note { get; set; }

    public List<ThresholdResult> Thresholds { get; init; } = [];

    public double ErrorRate => Requests == 0 ? 1 : (double)Errors / Requests;
}

/// <summary>A threshold's outcome.</summary>
internal sealed record ThresholdResult(string Name, string Op, double Limit, double Actual, bool Passed, bool FailsRun);
