using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using HdrHistogram;

namespace ConsentGateway.LoadTests.Engine;

/// <summary>
/// Runs one scenario: its connections opened, warm-up, then the measured phase, with one
/// <see cref="LoadClient"/> per scenario. Latency is recorded in an HdrHistogram (microseconds) from each
/// request's <em>scheduled</em> send time (open model), or with RecordValueWithExpectedInterval
/// (closed model), so coordinated omission cannot hide stalls.
/// </summary>
internal static class ScenarioRunner
{
    private const long HighestTrackableMicros = 120_000_000; // 2 minutes

    public static async Task<ScenarioResult> RunAsync(Scenario scenario, TimeSpan warmup, TimeSpan duration, TimeSpan requestTimeout, BedHooks? bed, CancellationToken ct) =>
        (await RunInterleavedAsync([scenario], 1, warmup, duration, requestTimeout, bed, ct))[0];

    /// <summary>
    /// Runs scenarios that are compared with each other in alternating rounds (A B A B …, each
    /// round a share of <paramref name="duration"/>), so that drift in what else the machine is
    /// doing biases neither side. Each scenario keeps its client, warm-up and histogram across rounds.
    /// </summary>
    /// <param name="bed">Read at each round's start and end (CPU by process, upstream connections) and filling the proxy's upstream pool at opening; null to leave them out.</param>
    public static async Task<ScenarioResult[]> RunInterleavedAsync(IReadOnlyList<Scenario> scenarios, int rounds, TimeSpan warmup, TimeSpan duration, TimeSpan requestTimeout, BedHooks? bed, CancellationToken ct)
    {
        rounds = Math.Max(1, rounds);
        var states = new List<(Scenario Scenario, LoadClient Load, HttpClient Client, Accumulator Acc, long[] Index)>();
        try
        {
            foreach (var scenario in scenarios)
            {
                var load = new LoadClient(scenario.Shape.Concurrency, requestTimeout);
                var client = load.Client;
                var index = new long[1];
                if (scenario.Before is not null)
                {
                    await scenario.Before(ct);
                }

                Task Open() => load.OpenConnectionsAsync(i => scenario.CreateRequest(i).Request, () => index[0]++, ct);
                if (bed is not null && scenario.UpstreamPoolOf is { } proxy)
                {
                    await bed.PoolFill.OpenAsync(proxy, load.MaxConnections, Open, ct);
                }
                else
                {
                    await Open();
                }
                var warm = new Accumulator(0, null, null);
                if (warmup > TimeSpan.Zero)
                {
                    await RunPhaseAsync(client, scenario, warmup, warm, () => index[0]++, requestTimeout, ct);
                }

                // Closed model: the expected interval between one worker's requests, from the warm-up.
                long expectedMicros = 0;
                if (scenario.Shape.Model == LoadModel.Closed && warm.Completed > 0)
                {
                    expectedMicros = Math.Max(1, (long)(warm.ActiveSeconds * 1e6 * scenario.Shape.Concurrency / warm.Completed));
                }

                states.Add((scenario, load, client, new Accumulator(expectedMicros, bed, load), index));
            }

            var share = duration / rounds;
            var notes = new string?[states.Count];
            for (var round = 0; round < rounds; round++)
            {
                for (var k = 0; k < states.Count; k++)
                {
                    var (scenario, _, client, acc, index) = states[k];
                    using var backgroundCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    var background = scenario.Background is null ? null : Task.Run(() => scenario.Background(backgroundCts.Token), CancellationToken.None);
                    await RunPhaseAsync(client, scenario, share, acc, () => index[0]++, requestTimeout, ct);
                    if (background is not null)
                    {
                        await backgroundCts.CancelAsync();
                        var note = await background;
                        notes[k] = notes[k] is null ? note : notes[k] + "; " + note;
                    }
                }
            }

            var results = new ScenarioResult[states.Count];
            for (var k = 0; k < states.Count; k++)
            {
                var (scenario, _, _, acc, _) = states[k];
                if (scenario.After is not null)
                {
                    await scenario.After(ct);
                }

                results[k] = acc.ToResult(scenario, rounds, notes[k]);
            }

            return results;
        }
        finally
        {
            foreach (var (_, load, _, _, _) in states)
            {
                load.Dispose();
            }
        }
    }

    private static async Task RunPhaseAsync(HttpClient client, Scenario scenario, TimeSpan duration, Accumulator acc, Func<long> nextIndex, TimeSpan requestTimeout, CancellationToken ct)
    {
        acc.BeginPhase();
        if (scenario.Shape.Model == LoadModel.Closed)
        {
            var end = acc.Start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            var workers = new Task[scenario.Shape.Concurrency];
            var gate = new object();
            for (var w = 0; w < workers.Length; w++)
            {
                workers[w] = Task.Run(async () =>
                {
                    while (Stopwatch.GetTimestamp() < end && !ct.IsCancellationRequested)
                    {
                        long i;
                        lock (gate)
                        {
                            i = nextIndex();
                        }

                        await ExecuteAsync(client, scenario, i, Stopwatch.GetTimestamp(), acc, ct);
                    }
                }, CancellationToken.None);
            }

            await Task.WhenAll(workers);
        }
        else
        {
            var inflight = new InFlight();
            var thread = new Thread(() => Schedule(client, scenario, duration, acc, nextIndex, inflight, ct))
            {
                IsBackground = true,
                Name = "open-model scheduler",
                Priority = ThreadPriority.AboveNormal,
            };
            thread.Start();
            await Task.Run(thread.Join, CancellationToken.None);

            // Wait for the stragglers (bounded by the request timeout).
            var drainUntil = Stopwatch.GetTimestamp() + (long)((requestTimeout.TotalSeconds + 1) * Stopwatch.Frequency);
            while (Volatile.Read(ref inflight.Count) > 0 && Stopwatch.GetTimestamp() < drainUntil)
            {
                await Task.Delay(5, CancellationToken.None);
            }
        }

        acc.EndPhase();
    }

    /// <summary>The open-model scheduler: fires request i at start + t_i and never waits for an answer.</summary>
    private static void Schedule(HttpClient client, Scenario scenario, TimeSpan duration, Accumulator acc, Func<long> nextIndex, InFlight inflight, CancellationToken ct)
    {
        var shape = scenario.Shape;
        var total = duration.TotalSeconds;
        var freq = (double)Stopwatch.Frequency;
        double RateAt(double t) => Math.Max(0.1, shape.Rate + ((shape.RateEnd - shape.Rate) * Math.Min(1, t / total)));
        var nextDue = 0.0;
        if (OperatingSystem.IsLinux())
        {
            // This thread's timer slack from the default 50 µs to 1 µs, so usleep wakes it on time.
            _ = Prctl(PrSetTimerSlack, 1_000, 0, 0, 0);
        }

        while (nextDue < total && !ct.IsCancellationRequested)
        {
            var now = (Stopwatch.GetTimestamp() - acc.Start) / freq;
            while (nextDue <= now && nextDue < total)
            {
                var scheduled = acc.Start + (long)(nextDue * freq);
                var i = nextIndex();
                Interlocked.Increment(ref inflight.Count);
                _ = FireAsync(client, scenario, i, scheduled, acc, inflight, ct);
                nextDue += 1.0 / RateAt(nextDue);
            }

            var wait = nextDue - ((Stopwatch.GetTimestamp() - acc.Start) / freq);
            if (wait > 0)
            {
                SleepUntilDue(wait);
            }
        }
    }

    /// <summary>
    /// Waits about <paramref name="seconds"/> without spinning. At the rates measured here the interval
    /// between sends is a few hundred microseconds, below Thread.Sleep's millisecond; the loop used to
    /// yield in a busy loop then, on two cores it shares with the proxies and the upstream. On Linux,
    /// usleep sleeps with microsecond resolution (woken late by the kernel's timer slack, which the
    /// latency, timed from the scheduled send, records alike on both sides of a comparison;
    /// <see cref="Schedule"/> lowers its thread's slack from the default 50 µs to 1 µs). The load
    /// generator's CPU per request at the fixed rate did not measurably change (172–187 µs before,
    /// 145–207 µs after, within this host's round-to-round spread).
    /// </summary>
    private static void SleepUntilDue(double seconds)
    {
        if (seconds > 0.002)
        {
            Thread.Sleep(1);
        }
        else if (OperatingSystem.IsLinux())
        {
            _ = USleep((uint)Math.Max(1, seconds * 1e6));
        }
        else
        {
            Thread.Yield();
        }
    }

    private const int PrSetTimerSlack = 29;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "usleep")]
    private static extern int USleep(uint microseconds);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "prctl")]
    private static extern int Prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    private static async Task FireAsync(HttpClient client, Scenario scenario, long i, long scheduled, Accumulator acc, InFlight inflight, CancellationToken ct)
    {
        try
        {
            await Task.Yield(); // leave the scheduler thread at once
            await ExecuteAsync(client, scenario, i, scheduled, acc, ct);
        }
        finally
        {
            Interlocked.Decrement(ref inflight.Count);
        }
    }

    private static async Task ExecuteAsync(HttpClient client, Scenario scenario, long i, long scheduledTimestamp, Accumulator acc, CancellationToken ct)
    {
        var spec = scenario.CreateRequest(i);
        string key;
        var status = 0;
        var leaked = false;
        var carriesMarker = false;
        long bytes = 0;
        try
        {
            using var response = await client.SendAsync(spec.Request, HttpCompletionOption.ResponseHeadersRead, ct);
            status = (int)response.StatusCode;
            var stream = await response.Content.ReadAsStreamAsync(ct);
            await using (stream)
            {
                (bytes, carriesMarker) = await ReadAndScanAsync(stream, spec.Forbidden, ct);
                leaked = carriesMarker && spec.CountsLeaks;
            }

            key = status.ToString(CultureInfo.InvariantCulture);
        }
        catch (TaskCanceledException)
        {
            key = "timeout";
        }
        catch (HttpRequestException ex)
        {
            key = "error:" + (ex.HttpRequestError.ToString());
        }
        catch (IOException)
        {
            key = "error:io";
        }
        finally
        {
            spec.Request.Dispose();
        }

        var end = Stopwatch.GetTimestamp();
        acc.Record(scheduledTimestamp, end, key, status, leaked, carriesMarker, bytes);
    }

    private static async Task<(long Bytes, bool Leaked)> ReadAndScanAsync(Stream stream, IReadOnlyList<byte[]> forbidden, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), ct);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            return (length, ScanThrough(buffer.AsSpan(0, length), forbidden));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Whether <paramref name="body"/> holds any of the markers, found by a scan that costs the same whether
    /// it does or not: every marker is looked for through the whole answer, past its first occurrence too.
    /// The load generator shares the proxies' cores, so its per-answer work must weigh alike on every
    /// target. Stopping at the first occurrence did not: the markers sit in the first ~600 bytes of an
    /// unfiltered 8 KB answer (plain YARP's, the floor's) and nowhere in the gateway's filtered one, so the
    /// scan took 0.5 µs on the former and 3.3 µs on the latter (session 13), charged to the gateway's side.
    /// </summary>
    internal static bool ScanThrough(ReadOnlySpan<byte> body, IReadOnlyList<byte[]> markers)
    {
        var found = false;
        foreach (var marker in markers)
        {
            var at = body.IndexOf(marker);
            if (at >= 0)
            {
                found = true;
                // Deliberately not used: only the cost of scanning the rest matters.
                _ = body[(at + 1)..].IndexOf(marker);
            }
        }

        return found;
    }

    private sealed class InFlight
    {
        public long Count;
    }

    /// <summary>Thread-safe collection of one phase's measurements.</summary>
    private sealed class Accumulator(long expectedIntervalMicros, BedHooks? bed, LoadClient? load)
    {
        private readonly Lock _lock = new();
        private readonly LongHistogram _histogram = new(HighestTrackableMicros, 3);

        // The current phase alone (one round of an interleaved group), for per-round percentiles.
        private readonly LongHistogram _phase = new(HighestTrackableMicros, 3);
        private readonly List<double> _roundP99Ms = [];
        private readonly List<double> _roundMaxMs = [];
        private readonly List<DateTime> _roundStartedUtc = [];
        private readonly List<DateTime> _roundSlowestSentUtc = [];
        private DateTime _phaseStartedUtc;
        private long _phaseMaxMicros;
        private long _phaseMaxScheduled;
        private readonly List<double> _roundRps = [];
        private readonly List<long> _roundConnectionsOpened = [];
        private long _phaseConnectionsBefore;
        private long _connectionsAhead = -1;
        private readonly List<double> _roundForeignCpu = [];
        private readonly SortedDictionary<string, List<double>> _roundCpuPerRequest = new(StringComparer.Ordinal);
        private HostCpu.Sample? _phaseCpu;
        private UpstreamSockets.Sample? _phaseUpstream;
        private Dictionary<string, long>? _upstreamAhead;
        private readonly SortedDictionary<string, List<long>> _roundUpstreamOpened = new(StringComparer.Ordinal);
        private long _phaseCompletedBefore;
        private readonly SortedDictionary<string, long> _byStatus = new(StringComparer.Ordinal);
        private long _ok;
        private long _errors;
        private long _5xx;
        private long _leaked;
        private long _withMarker;
        private long _bytes;
        private long _activeTicks;

        /// <summary>Start of the current phase (the open-model schedule's time zero).</summary>
        public long Start { get; private set; }

        public long Completed { get; private set; }

        /// <summary>Sum of the phases' wall time (each from its start until its last answer).</summary>
        public double ActiveSeconds => Volatile.Read(ref _activeTicks) / (double)Stopwatch.Frequency;

        public void BeginPhase()
        {
            lock (_lock)
            {
                _phase.Reset();
                _phaseCompletedBefore = Completed;
                _phaseMaxMicros = 0;
            }

            _phaseCpu = bed?.Cpu.TryRead();
            _phaseUpstream = bed?.Upstream.TryRead();
            if (_upstreamAhead is null && _phaseUpstream is { } first)
            {
                _upstreamAhead = first.ByProcess.ToDictionary(kv => kv.Key, kv => (long)kv.Value.Count, StringComparer.Ordinal);
            }
            _phaseConnectionsBefore = load?.ConnectionsOpened ?? 0;
            if (_connectionsAhead < 0)
            {
                _connectionsAhead = _phaseConnectionsBefore;
            }

            _phaseStartedUtc = DateTime.UtcNow;
            Start = Stopwatch.GetTimestamp();
        }

        public void EndPhase()
        {
            var ticks = Stopwatch.GetTimestamp() - Start;
            Interlocked.Add(ref _activeTicks, ticks);
            var cpu = bed?.Cpu.TryRead();
            var upstream = UpstreamSockets.Opened(_phaseUpstream, bed?.Upstream.TryRead());
            var foreign = HostCpu.ForeignShare(_phaseCpu, cpu);
            var byProcess = HostCpu.ByProcess(_phaseCpu, cpu);
            lock (_lock)
            {
                if (_phase.TotalCount > 0)
                {
                    _roundP99Ms.Add(_phase.GetValueAtPercentile(99) / 1000.0);
                    _roundMaxMs.Add(_phaseMaxMicros / 1000.0);
                    _roundStartedUtc.Add(_phaseStartedUtc);
                    _roundSlowestSentUtc.Add(_phaseStartedUtc.AddTicks((_phaseMaxScheduled - Start) * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
                }

                _roundConnectionsOpened.Add((load?.ConnectionsOpened ?? 0) - _phaseConnectionsBefore);
                foreach (var (name, opened) in upstream)
                {
                    if (!_roundUpstreamOpened.TryGetValue(name, out var list))
                    {
                        _roundUpstreamOpened[name] = list = [];
                    }

                    list.Add(opened);
                }
                var answered = Completed - _phaseCompletedBefore;
                _roundRps.Add(Math.Round(answered * (double)Stopwatch.Frequency / Math.Max(1, ticks), 1));
                if (foreign is { } share)
                {
                    _roundForeignCpu.Add(Math.Round(share, 4));
                }

                if (answered > 0)
                {
                    foreach (var (name, used) in byProcess)
                    {
                        if (!_roundCpuPerRequest.TryGetValue(name, out var list))
                        {
                            _roundCpuPerRequest[name] = list = [];
                        }

                        list.Add(Math.Round(used / HostCpu.TicksPerSecond * 1e6 / answered, 1));
                    }
                }
            }
        }

        public void Record(long scheduled, long end, string key, int status, bool leaked, bool carriesMarker, long bytes)
        {
            var micros = Math.Clamp((end - scheduled) * 1_000_000 / Stopwatch.Frequency, 1, HighestTrackableMicros);
            lock (_lock)
            {
                if (expectedIntervalMicros > 0)
                {
                    _histogram.RecordValueWithExpectedInterval(micros, expectedIntervalMicros);
                    _phase.RecordValueWithExpectedInterval(micros, expectedIntervalMicros);
                }
                else
                {
                    _histogram.RecordValue(micros);
                    _phase.RecordValue(micros);
                }

                if (micros > _phaseMaxMicros)
                {
                    _phaseMaxMicros = micros;
                    _phaseMaxScheduled = scheduled;
                }

                Completed++;
                _byStatus[key] = _byStatus.GetValueOrDefault(key) + 1;
                if (status is >= 200 and < 300 && !leaked)
                {
                    _ok++;
                }
                else
                {
                    _errors++;
                }

                if (status >= 500)
                {
                    _5xx++;
                }

                if (leaked)
                {
                    _leaked++;
                }

                if (carriesMarker)
                {
                    _withMarker++;
                }

                _bytes += bytes;
            }
        }

        public ScenarioResult ToResult(Scenario scenario, int rounds, string? note)
        {
            lock (_lock)
            {
                // Throughput: completed answers over the phases' time, each from its first scheduled send to its last answer.
                var elapsed = Math.Max(1e-6, ActiveSeconds);
                static double Ms(long micros) => micros / 1000.0;
                var result = new ScenarioResult
                {
                    Name = scenario.Name,
                    Target = scenario.Target,
                    Description = scenario.Description,
                    Payload = scenario.Payload,
                    Load = scenario.Shape.ToString(),
                    DurationSeconds = Math.Round(elapsed, 2),
                    Requests = Completed,
                    Ok = _ok,
                    Errors = _errors,
                    Status5xx = _5xx,
                    Leaked = _leaked,
                    WithMarker = _withMarker,
                    ThroughputRps = Math.Round(Completed / elapsed, 1),
                    OfferedRps = scenario.Shape.Model == LoadModel.Open ? Math.Round((scenario.Shape.Rate + scenario.Shape.RateEnd) / 2, 1) : 0,
                    ExpectedIntervalMs = Ms(expectedIntervalMicros),
                    RecordedValues = _histogram.TotalCount,
                    MegabytesReceived = Math.Round(_bytes / 1048576.0, 1),
                    Rounds = rounds,
                    RoundP99Ms = [.. _roundP99Ms],
                    RoundMaxMs = [.. _roundMaxMs],
                    RoundStartedUtc = [.. _roundStartedUtc],
                    RoundSlowestSentUtc = [.. _roundSlowestSentUtc],
                    RoundThroughputRps = [.. _roundRps],
                    ConnectionLimit = load?.MaxConnections ?? 0,
                    ConnectionsOpenedAhead = Math.Max(0, _connectionsAhead),
                    RoundConnectionsOpened = [.. _roundConnectionsOpened],
                    RoundForeignCpu = [.. _roundForeignCpu],
                    UpstreamConnectionsAhead = _upstreamAhead ?? new(StringComparer.Ordinal),
                    RoundUpstreamConnectionsOpened = _roundUpstreamOpened.ToDictionary(kv => kv.Key, kv => kv.Value.ToList(), StringComparer.Ordinal),
                    RoundCpuPerRequestUs = _roundCpuPerRequest.ToDictionary(kv => kv.Key, kv => kv.Value.ToList(), StringComparer.Ordinal),
                    Note = note,
                };
                foreach (var (k, v) in _byStatus)
                {
                    result.ByStatus[k] = v;
                }

                if (_histogram.TotalCount > 0)
                {
                    result.MeanMs = Math.Round(_histogram.GetMean() / 1000.0, 3);
                    result.P50Ms = Ms(_histogram.GetValueAtPercentile(50));
                    result.P75Ms = Ms(_histogram.GetValueAtPercentile(75));
                    result.P95Ms = Ms(_histogram.GetValueAtPercentile(95));
                    result.P99Ms = Ms(_histogram.GetValueAtPercentile(99));
                    result.P999Ms = Ms(_histogram.GetValueAtPercentile(99.9));
                    result.MaxMs = Ms(_histogram.GetMaxValue());
                }

                foreach (var t in scenario.Thresholds)
                {
                    result.Thresholds.Add(new ThresholdResult(t.Name, t.Op, t.Limit, Math.Round(t.Metric(result), 4), t.Evaluate(result), t.FailsRun));
                }

                return result;
            }
        }
    }
}
