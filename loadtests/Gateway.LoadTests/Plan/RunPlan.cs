using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using ConsentGateway.LoadTests.Bed;
using ConsentGateway.LoadTests.Engine;
using ConsentGateway.LoadTests.Report;

namespace ConsentGateway.LoadTests.Plan;

/// <summary>
/// The scenarios of a run, side by side against one test bed: direct (the limit), plain YARP, the
/// gateway with consent in L1, L1 misses served from Redis, consent churn, Redis down; capacity
/// (closed model) first, then fixed-rate (open model) at half the gateway's measured capacity.
/// </summary>
internal sealed class RunPlan(LoadTestOptions options, TestBed bed, Payloads payloads, TextWriter log)
{
    private readonly List<ScenarioResult> _results = [];
    private readonly BedHooks _hooks = Hooks(options, bed);
    private long _poolNext;

    public int PoolSize => options.Smoke ? 5_000 : 200_000;

    public static string PoolSubject(long n) => "lt-" + n.ToString(CultureInfo.InvariantCulture);

    public async Task<RunReport> ExecuteAsync(CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var sw = Stopwatch.StartNew();

        // At the start, as the binaries were just built and started: src/ edited during a run is not what it measured.
        var build = BuildInfo.Collect(options.RepoRoot);
        log.WriteLine($"granting marketing to {TestBed.CustomerCount} customers and {PoolSize} pool subjects in Redis");
        await bed.GrantAsync(TestBed.Customers().Concat(Enumerable.Range(0, PoolSize).Select(n => PoolSubject(n))));

        var c = options.Concurrency;
        var sizes = options.Smoke ? new[] { Size.Medium } : [Size.Small, Size.Medium, Size.Large];
        var postSizes = options.Smoke ? new[] { Size.Medium } : [Size.Medium, Size.Large];

        await WarmUpProcessesAsync(sizes, postSizes, c, ct);

        // 1. Capacity, closed model: GET (response filtered) for all three sizes, then POST /echo (filtered both ways).
        //    Scenarios compared with each other run in interleaved rounds (direct, yarp, gateway, direct, …).
        //    Under --floor the 8 KB groups also run the floor proxy (buffer and check, no enforcement),
        //    and under --floor-burn the GET 8 KB group the burned floor too (the same, plus fixed CPU work per request).
        foreach (var size in sizes)
        {
            List<Scenario> group =
            [
                GetScenario("direct", bed.Direct, size, LoadShape.ClosedModel(c)),
                GetScenario("yarp", bed.Plain, size, LoadShape.ClosedModel(c)),
                GetScenario("gateway-l1", bed.Gateway, size, LoadShape.ClosedModel(c)),
            ];
            group.AddRange(FloorGetScenarios(size, LoadShape.ClosedModel(c)));
            await RunGroupAsync(group, ct);
        }

        foreach (var size in postSizes)
        {
            List<Scenario> group = options.Smoke ? [] : [PostScenario("direct", bed.Direct, size, LoadShape.ClosedModel(c))];
            group.Add(PostScenario("yarp", bed.Plain, size, LoadShape.ClosedModel(c)));
            group.Add(PostScenario("gateway-l1", bed.Gateway, size, LoadShape.ClosedModel(c)));
            if (WithFloor(size))
            {
                group.Add(PostScenario("floor", bed.Floor, size, LoadShape.ClosedModel(c)));
            }

            await RunGroupAsync(group, ct);
        }

        // 2. Fixed rate (open model) at half the gateway's measured capacity (or --fixed-rate), plain YARP and gateway.
        var gwCapacity = Find("gateway-l1-get-8k")?.ThroughputRps ?? 100;
        var rate = options.FixedRate ?? Math.Max(5, Math.Round(gwCapacity / 2));
        if (options.Smoke)
        {
            rate = Math.Min(rate, 40);
        }

        var openConnections = Math.Max(c, 64);
        //    Plain YARP runs twice per round, before and after the gateway: the second is the A/A control,
        //    the p99 "added" between two identical sides at this rate on this machine (the goal's noise floor).
        List<Scenario> fixedScenarios =
        [
            GetScenario("yarp", bed.Plain, Size.Medium, LoadShape.FixedRate(rate, openConnections), "-fixed"),
            GetScenario("gateway-l1", bed.Gateway, Size.Medium, LoadShape.FixedRate(rate, openConnections), "-fixed"),
            GetScenario("yarp", bed.Plain, Size.Medium, LoadShape.FixedRate(rate, openConnections), "-fixed-again"),
        ];
        if (options.Floor)
        {
            // Last in the round, so the A/A control above still directly follows the gateway's round.
            fixedScenarios.Add(GetScenario("floor", bed.Floor, Size.Medium, LoadShape.FixedRate(rate, openConnections), "-fixed"));
        }

        if (options.FloorBurnUs > 0)
        {
            fixedScenarios.Add(GetScenario("floorburn", bed.FloorBurn, Size.Medium, LoadShape.FixedRate(rate, openConnections), "-fixed"));
        }

        var fixedGroup = await RunGroupAsync(fixedScenarios, ct);
        var (yarpFixed, gwFixed, yarpAgain) = (fixedGroup[0], fixedGroup[1], fixedGroup[2]);

        // 3. L1 misses served from Redis: every request a subject never seen before (granted in Redis).
        await RunAsync(new Scenario
        {
            Name = "gateway-l2-post-8k",
            Target = "gateway",
            Description = "POST /echo 8 KB, a never-repeated subject per request (L1 miss, consent read from Redis)",
            Payload = "POST 8 KB",
            Shape = LoadShape.ClosedModel(c),
            CreateRequest = i => payloads.Post(bed.Gateway, Size.Medium, i, NextPoolSubject(0, PoolSize / 2), payloads.MarkersOf(i).AlwaysWithheld),
            Thresholds = GatewayThresholds(),
        }, ct);

        // 4. Consent churn: admin API writes (grant/deny toggles) while reading at the fixed rate.
        await RunAsync(new Scenario
        {
            Name = "gateway-churn-get-8k",
            Target = "gateway",
            Description = $"GET profile 8 KB at {rate:0} req/s while the admin API toggles marketing grant/deny for the same 50 subjects",
            Payload = "GET 8 KB",
            Shape = LoadShape.FixedRate(rate, openConnections),
            CreateRequest = i => Payloads.Get(bed.Gateway, Size.Medium, i, payloads.MarkersOf(i).AlwaysWithheld),
            Thresholds = GatewayThresholds(),
            Background = token => ChurnAsync(options.Smoke ? 20 : 100, token),
            After = _ => RegrantCustomersAsync(),
        }, ct);

        // 5. wrk cross-check of one closed-model scenario.
        WrkResult? wrk = null;
        if (options.Wrk)
        {
            log.WriteLine("wrk cross-check: gateway-l1-get-8k");
            wrk = await WrkRunner.RunAsync(new Uri(bed.Gateway, "/customers/c-1001/profile?size=medium"), c, options.Duration, ct);
        }

        // 6. Redis down (last: the store stays down): fail closed, zero 5xx, zero leaked fields.
        var postCapacity = Find("gateway-l1-post-8k")?.ThroughputRps ?? gwCapacity;
        var downTo = Math.Max(5, Math.Round(postCapacity / 2));
        var downFrom = Math.Max(2, Math.Round(downTo / 5));
        if (options.Smoke)
        {
            (downFrom, downTo) = (Math.Min(downFrom, 10), Math.Min(downTo, 40));
        }

        await RunAsync(new Scenario
        {
            Name = "gateway-redis-down-post-8k",
            Target = "gateway",
            Description = "redis-server killed; POST /echo 8 KB, never-cached subjects (granted in Redis before the crash): must fail closed",
            Payload = "POST 8 KB",
            Shape = LoadShape.Ramp(downFrom, downTo, openConnections),
            CreateRequest = i => payloads.Post(bed.Gateway, Size.Medium, i, NextPoolSubject(PoolSize / 2, PoolSize), payloads.MarkersOf(i).FailClosed),
            Before = bed.StopRedisAsync,
            Thresholds = [.. GatewayThresholds(), new Threshold("2xx rate", r => r.Requests == 0 ? 0 : (double)r.Ok / r.Requests, ">=", 0.99)],
        }, ct);

        var report = new RunReport
        {
            StartedUtc = started,
            WallSeconds = Math.Round(sw.Elapsed.TotalSeconds, 1),
            Command = options.Command,
            Smoke = options.Smoke,
            Settings = $"JIT warm-up {options.JitWarmup.TotalSeconds:0.##} s (unrecorded, both proxies); duration {options.Duration.TotalSeconds:0.##} s + warm-up {options.Warmup.TotalSeconds:0.##} s per scenario; compared scenarios interleaved in {options.Rounds} round(s); closed model {c} workers; open model up to {openConnections} connections; " + (options.ColdPools ? "--cold-pools: proxies' upstream pools as the opening left them" : "each proxy's upstream pool filled to the scenario's connection limit at its opening") + (options.FixedRate is { } given ? $"; fixed rate {given:0.##} req/s set by --fixed-rate" : "") + (options.PinProxies ? $"; --pin-proxies: {bed.Placement()}" : ""),
            Machine = MachineInfo.Collect(),
            Build = build,
            Scenarios = _results,
            Wrk = wrk,
            WrkCounterpart = Find("gateway-l1-get-8k"),
        };
        GoalRatios.Add(report, _results, yarpFixed, gwFixed, yarpAgain, rateGiven: options.FixedRate is not null);
        if (options.Floor)
        {
            FloorRatios.Add(report, _results, yarpFixed, gwFixed, fixedGroup[3], options.FloorBurnUs > 0 ? fixedGroup[4] : null);
        }

        report.Evaluate(options.EnforceGoals);
        return report;
    }

    private static BedHooks Hooks(LoadTestOptions options, TestBed bed)
    {
        var sockets = new UpstreamSockets(bed.Processes, bed.ApiPort);
        return new BedHooks(new HostCpu(bed.Processes), sockets, new UpstreamPoolFill(options.ColdPools ? () => null : bed.HoldUpstream, sockets));
    }

    private string Unenforced(string target) => target switch
    {
        "floor" => ", no enforcement; each JSON body buffered whole and checked (UTF-8, Utf8JsonReader) before it is forwarded",
        "floorburn" => string.Create(CultureInfo.InvariantCulture, $", the floor proxy plus {options.FloorBurnUs:0.#} µs of CPU work per request (--floor-burn)"),
        _ => ", no enforcement",
    };

    private bool WithFloor(Size size) => options.Floor && size == Size.Medium;

    /// <summary>The floors' GET scenarios at this size: the floor under --floor, and the burned floor too under --floor-burn (8 KB only).</summary>
    private IEnumerable<Scenario> FloorGetScenarios(Size size, LoadShape shape)
    {
        if (WithFloor(size))
        {
            yield return GetScenario("floor", bed.Floor, size, shape);
            if (options.FloorBurnUs > 0)
            {
                yield return GetScenario("floorburn", bed.FloorBurn, size, shape);
            }
        }
    }

    private Scenario GetScenario(string target, Uri baseUri, Size size, LoadShape shape, string suffix = "")
    {
        var isGateway = target.StartsWith("gateway", StringComparison.Ordinal);
        return new Scenario
        {
            Name = $"{target}-get-{Payloads.Short(size)}{suffix}",
            Target = target.Split('-')[0],
            Description = $"GET /customers/{{id}}/profile?size={Payloads.Query(size)} over 50 subjects" + (isGateway ? ", response filtered (marketing granted, consent in L1)" : Unenforced(target)),
            Payload = $"GET {Payloads.Label(size)}",
            Shape = shape,
            UpstreamPoolOf = TestBed.ProxyProcess(target.Split('-')[0]),
            CreateRequest = i => Payloads.Get(baseUri, size, i, payloads.MarkersOf(i).AlwaysWithheld, countsLeaks: isGateway),
            Thresholds = isGateway ? GatewayThresholds() : UnenforcedThresholds(),
        };
    }

    private Scenario PostScenario(string target, Uri baseUri, Size size, LoadShape shape)
    {
        var isGateway = target.StartsWith("gateway", StringComparison.Ordinal);
        return new Scenario
        {
            Name = $"{target}-post-{Payloads.Short(size)}",
            Target = target.Split('-')[0],
            Description = $"POST /echo with a {Payloads.Label(size)} profile body, subject in X-Subject-Id (50 subjects)" + (isGateway ? ", request and response filtered" : Unenforced(target)),
            Payload = $"POST {Payloads.Label(size)}",
            Shape = shape,
            UpstreamPoolOf = TestBed.ProxyProcess(target.Split('-')[0]),
            CreateRequest = i => payloads.Post(baseUri, size, i, Payloads.CustomerId(i), payloads.MarkersOf(i).AlwaysWithheld, countsLeaks: isGateway),
            Thresholds = isGateway ? GatewayThresholds() : UnenforcedThresholds(),
        };
    }

    private static Threshold[] BaseThresholds() => [new Threshold("error rate", r => r.ErrorRate, "<=", 0.01)];

    /// <summary>
    /// Without enforcement every answer must carry a marker value: otherwise the gateway's "leaked fields"
    /// check on the same requests would pass for want of anything to find.
    /// </summary>
    private static Threshold[] UnenforcedThresholds() =>
    [
        .. BaseThresholds(),
        new Threshold("answers carrying a marker", r => r.Requests == 0 ? 0 : (double)r.WithMarker / r.Requests, ">=", 0.99),
    ];

    private static Threshold[] GatewayThresholds() =>
    [
        .. BaseThresholds(),
        new Threshold("5xx", r => r.Status5xx, "==", 0),
        new Threshold("leaked fields", r => r.Leaked, "==", 0),
    ];

    private string NextPoolSubject(int from, int to)
    {
        var span = to - from;
        var n = Interlocked.Increment(ref _poolNext) - 1;
        return PoolSubject(from + (n % span));
    }

    /// <summary>Drives every capacity scenario through both proxies, unrecorded, for <see cref="LoadTestOptions.JitWarmup"/> in all.</summary>
    private async Task WarmUpProcessesAsync(Size[] sizes, Size[] postSizes, int concurrency, CancellationToken ct)
    {
        if (options.JitWarmup <= TimeSpan.Zero)
        {
            return;
        }

        List<Scenario> scenarios = [];
        foreach (var size in sizes)
        {
            scenarios.Add(GetScenario("yarp", bed.Plain, size, LoadShape.ClosedModel(concurrency)));
            scenarios.Add(GetScenario("gateway-l1", bed.Gateway, size, LoadShape.ClosedModel(concurrency)));
            scenarios.AddRange(FloorGetScenarios(size, LoadShape.ClosedModel(concurrency)));
        }

        foreach (var size in postSizes)
        {
            scenarios.Add(PostScenario("yarp", bed.Plain, size, LoadShape.ClosedModel(concurrency)));
            scenarios.Add(PostScenario("gateway-l1", bed.Gateway, size, LoadShape.ClosedModel(concurrency)));
            if (WithFloor(size))
            {
                scenarios.Add(PostScenario("floor", bed.Floor, size, LoadShape.ClosedModel(concurrency)));
            }
        }

        var each = options.JitWarmup / scenarios.Count;
        log.WriteLine($"JIT warm-up: {options.JitWarmup.TotalSeconds:0} s over {scenarios.Count} scenarios, not recorded");
        foreach (var scenario in scenarios)
        {
            _ = await ScenarioRunner.RunAsync(scenario, each, TimeSpan.FromMilliseconds(200), options.RequestTimeout, bed: null, ct);
        }
    }

    /// <summary>
    /// Runs the group's scenarios interleaved; the result array matches <paramref name="group"/> one to one,
    /// with a "skipped" result for each scenario --only left out (callers index pairs by position).
    /// </summary>
    private async Task<ScenarioResult[]> RunGroupAsync(List<Scenario> group, CancellationToken ct)
    {
        var results = group.Select(Skipped).ToArray();
        var selected = group.Where(s => options.Only.Count == 0 || options.Only.Exists(o => s.Name.Contains(o, StringComparison.Ordinal))).ToList();
        if (selected.Count == 0)
        {
            return results;
        }

        log.WriteLine($"interleaved, {options.Rounds} round(s): {string.Join(", ", selected.Select(s => s.Name))}");
        var ran = await ScenarioRunner.RunInterleavedAsync(selected, options.Rounds, options.Warmup, options.Duration, options.RequestTimeout, _hooks, ct);
        for (var i = 0; i < ran.Length; i++)
        {
            Log(ran[i]);
            _results.Add(ran[i]);
            results[group.IndexOf(selected[i])] = ran[i];
        }

        return results;
    }

    private static ScenarioResult Skipped(Scenario s) => new() { Name = s.Name, Target = s.Target, Description = "skipped (--only)", Payload = s.Payload, Load = s.Shape.ToString() };

    private void Log(ScenarioResult result) => log.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{result.Name,-30} {result.Load,-28} {result.ThroughputRps,9:0.0} req/s  p50 {result.P50Ms,8:0.000}  p99 {result.P99Ms,8:0.000}  max {result.MaxMs,8:0.0} ms  errors {result.Errors}  5xx {result.Status5xx}  leaked {result.Leaked}"));

    private async Task<ScenarioResult> RunAsync(Scenario scenario, CancellationToken ct)
    {
        if (options.Only.Count > 0 && !options.Only.Exists(o => scenario.Name.Contains(o, StringComparison.Ordinal)))
        {
            return Skipped(scenario);
        }

        if (scenario.Name.Contains("-l2-", StringComparison.Ordinal) || scenario.Name.Contains("redis-down", StringComparison.Ordinal))
        {
            _poolNext = 0;
        }

        var result = await ScenarioRunner.RunAsync(scenario, options.Warmup, options.Duration, options.RequestTimeout, _hooks, ct);
        Log(result);
        _results.Add(result);
        return result;
    }

    private ScenarioResult? Find(string name) => _results.Find(r => r.Name == name && r.Requests > 0);

    /// <summary>Toggles marketing for the 50 customers through the admin API at a fixed rate.</summary>
    private async Task<string> ChurnAsync(int writesPerSecond, CancellationToken ct)
    {
        using var admin = new HttpClient { BaseAddress = bed.Admin, Timeout = TimeSpan.FromSeconds(5) };
        admin.DefaultRequestHeaders.Add("X-Admin-Key", TestBed.AdminKey);
        long ok = 0, failed = 0, n = 0;
        var latencies = new List<double>();
        var start = Stopwatch.GetTimestamp();
        while (!ct.IsCancellationRequested)
        {
            var due = start + (long)(n * Stopwatch.Frequency / (double)writesPerSecond);
            var wait = (due - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
            if (wait > 0)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(wait), ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            var status = n % 2 == 0 ? "denied" : "granted";
            var subject = Payloads.CustomerId(n / 2 * 7);
            var t0 = Stopwatch.GetTimestamp();
            try
            {
                using var r = await admin.PutAsJsonAsync($"/v1/subjects/{subject}/consents/marketing", new { status, source = "loadtest-churn" }, CancellationToken.None);
                if (r.IsSuccessStatusCode)
                {
                    ok++;
                }
                else
                {
                    failed++;
                }
            }
            catch (HttpRequestException)
            {
                failed++;
            }
            catch (TaskCanceledException)
            {
                failed++;
            }

            latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            n++;
        }

        latencies.Sort();
        var p99 = latencies.Count == 0 ? 0 : latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * 0.99))];
        return string.Create(CultureInfo.InvariantCulture, $"admin API writes at {writesPerSecond}/s: {ok} ok, {failed} failed, write p99 {p99:0.00} ms (closed-loop timing)");
    }

    private async Task RegrantCustomersAsync()
    {
        using var admin = new HttpClient { BaseAddress = bed.Admin, Timeout = TimeSpan.FromSeconds(5) };
        admin.DefaultRequestHeaders.Add("X-Admin-Key", TestBed.AdminKey);
        foreach (var subject in TestBed.Customers())
        {
            using var r = await admin.PutAsJsonAsync($"/v1/subjects/{subject}/consents/marketing", new { status = "granted", source = "loadtest" });
        }
    }
}
