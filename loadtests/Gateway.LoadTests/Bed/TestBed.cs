using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StackExchange.Redis;

namespace ConsentGateway.LoadTests.Bed;

/// <summary>
/// Everything a run needs, on loopback: redis-server, the sample API, the gateway (with a load-test
/// configuration generated from config/gateway.json) and a plain YARP passthrough with the same
/// routes. Started together, stopped together.
/// </summary>
internal sealed class TestBed : IAsyncDisposable
{
    public const string ApiKey = "demo-crm-key";
    public const string AdminKey = "demo-admin-key";
    public const string Purpose = "marketing";
    public const int FirstCustomer = 1001;
    public const int CustomerCount = 50;

    private readonly List<ManagedProcess> _processes = [];
    private ManagedProcess? _upstream;
    private readonly LoadTestOptions _options;
    private ManagedProcess? _redis;
    private ConnectionMultiplexer? _mux;

    private TestBed(LoadTestOptions options)
    {
        _options = options;
        RedisPort = ManagedProcess.FreePort();
        ApiPort = ManagedProcess.FreePort();
        ProxyPort = ManagedProcess.FreePort();
        AdminPort = ManagedProcess.FreePort();
        PlainPort = ManagedProcess.FreePort();
        FloorPort = ManagedProcess.FreePort();
        FloorBurnPort = ManagedProcess.FreePort();
    }

    public int RedisPort { get; }

    public int ApiPort { get; }

    public int ProxyPort { get; }

    public int AdminPort { get; }

    public int PlainPort { get; }

    /// <summary>The floor proxy's port (PlainProxy --buffer-json), listening only under --floor.</summary>
    public int FloorPort { get; }

    /// <summary>The burned floor's port (the floor proxy with --burn-us), listening only under --floor-burn.</summary>
    public int FloorBurnPort { get; }

    public Uri Direct => new($"http://127.0.0.1:{ApiPort}");

    public Uri Gateway => new($"http://127.0.0.1:{ProxyPort}");

    public Uri Admin => new($"http://127.0.0.1:{AdminPort}");

    public Uri Plain => new($"http://127.0.0.1:{PlainPort}");

    public Uri Floor => new($"http://127.0.0.1:{FloorPort}");

    public Uri FloorBurn => new($"http://127.0.0.1:{FloorBurnPort}");

    public string ConfigPath { get; private set; } = "";

    public string LogDirectory => Path.Combine(_options.OutputDirectory, "logs");

    public bool RedisRunning => _redis is { HasExited: false };

    /// <summary>The bed's live processes (redis-server, SampleApi, the gateway, plain YARP), for <see cref="Engine.HostCpu"/>.</summary>
    public IEnumerable<(string Name, int Id)> Processes()
    {
        foreach (var p in _processes)
        {
            if (!p.HasExited)
            {
                yield return (p.Name, p.Id);
            }
        }

        if (_redis is { HasExited: false } redis)
        {
            yield return (redis.Name, redis.Id);
        }
    }

    public static async Task<TestBed> StartAsync(LoadTestOptions options, TextWriter log)
    {
        var bed = new TestBed(options);
        try
        {
            await bed.StartAllAsync(log);
            return bed;
        }
        catch
        {
            await bed.DisposeAsync();
            throw;
        }
    }

    private async Task StartAllAsync(TextWriter log)
    {
        var root = _options.RepoRoot;
        var cfg = _options.Configuration;
        string Dll(string project, string assembly)
        {
            var path = Path.Combine(root, "src", project, "bin", cfg, "net10.0", assembly + ".dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"{path} not found: build first (dotnet build Gateway.sln -c {cfg})", path);
        }

        var sampleDll = Dll("SampleApi", "SampleApi");
        var gatewayDll = Dll("Gateway", "ConsentGateway");
        var plainDll = Dll("PlainProxy", "PlainProxy");
        Directory.CreateDirectory(LogDirectory);
        ConfigPath = Path.Combine(_options.OutputDirectory, "loadtest-gateway.json");
        await File.WriteAllTextAsync(ConfigPath, GenerateConfig(Path.Combine(root, "config", "gateway.json")));

        log.WriteLine($"starting redis :{RedisPort}, SampleApi :{ApiPort}, gateway :{ProxyPort}/:{AdminPort}, plain YARP :{PlainPort}{(_options.Floor ? $", floor proxy :{FloorPort}" : "")}{(_options.FloorBurnUs > 0 ? $", burned floor :{FloorBurnPort}" : "")} ({cfg})");
        StartRedis();
        var dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var sample = _upstream = Launch("sampleapi", dotnet, [sampleDll, "--urls", Direct.ToString().TrimEnd('/')], _options.PinProxies ? OneCpuThreadPool : null);
        var gateway = LaunchProxy("gateway", dotnet, [gatewayDll, "--config", ConfigPath]);
        var plain = LaunchProxy("plainproxy", dotnet, [plainDll, "--config", ConfigPath, "--urls", Plain.ToString().TrimEnd('/')]);
        var floor = _options.Floor ? LaunchProxy(FloorProcess, dotnet, [plainDll, "--config", ConfigPath, "--urls", Floor.ToString().TrimEnd('/'), "--buffer-json", "true"]) : null;
        var floorBurn = _options.FloorBurnUs > 0
            ? LaunchProxy(FloorBurnProcess, dotnet, [plainDll, "--config", ConfigPath, "--urls", FloorBurn.ToString().TrimEnd('/'), "--buffer-json", "true", "--burn-us", _options.FloorBurnUs.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            : null;

        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var timeout = TimeSpan.FromSeconds(30);
        await WaitRedisAsync();
        _mux = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{RedisPort},abortConnect=false");
        await Task.WhenAll(
            sample.WaitUntilAsync(async () => (await probe.GetAsync(new Uri(Direct, "/healthz"))).IsSuccessStatusCode, timeout, LogPath("sampleapi")),
            gateway.WaitUntilAsync(async () => (await probe.GetAsync(new Uri(Admin, "/readyz"))).IsSuccessStatusCode, timeout, LogPath("gateway")),
            plain.WaitUntilAsync(async () => { using var r = await probe.GetAsync(new Uri(Plain, "/healthz")); return true; }, timeout, LogPath("plainproxy")),
            floor?.WaitUntilAsync(async () => { using var r = await probe.GetAsync(new Uri(Floor, "/healthz")); return true; }, timeout, LogPath(FloorProcess)) ?? Task.CompletedTask,
            floorBurn?.WaitUntilAsync(async () => { using var r = await probe.GetAsync(new Uri(FloorBurn, "/healthz")); return true; }, timeout, LogPath(FloorBurnProcess)) ?? Task.CompletedTask);
    }

    /// <summary>
    /// Stops SampleApi until the result is disposed. Connections to it still complete in the kernel's
    /// accept backlog but no answer comes, so each request a proxy forwards meanwhile takes an upstream
    /// connection of its own: how a scenario's opening fills its proxy's pool to the load's concurrency.
    /// Null when it cannot be stopped (not Linux).
    /// </summary>
    public IDisposable? HoldUpstream() => _upstream is { HasExited: false } sample ? ProcessPause.TryStop(sample.Id) : null;

    /// <summary>The floor proxy's process name, in logs and in the report's CPU table.</summary>
    public const string FloorProcess = "floorproxy";

    /// <summary>The burned floor's process name (the floor proxy with --burn-us).</summary>
    public const string FloorBurnProcess = "floorburnproxy";

    /// <summary>The bed process that serves a scenario's target ("gateway", "yarp", "floor"); null for the upstream itself.</summary>
    public static string? ProxyProcess(string target) => target switch
    {
        "gateway" => "gateway",
        "yarp" => "plainproxy",
        "floor" => FloorProcess,
        "floorburn" => FloorBurnProcess,
        _ => null,
    };

    private string LogPath(string name) => Path.Combine(LogDirectory, name + ".log");

    /// <summary>A proxy, on CPU 1 under --pin-proxies (taskset execs the command: the process id stays the proxy's).</summary>
    private ManagedProcess LaunchProxy(string name, string dotnet, string[] args) =>
        _options.PinProxies ? Launch(name, "taskset", ["-c", ProxyCpu, dotnet, .. args]) : Launch(name, dotnet, args);

    /// <summary>The CPU the proxies get under --pin-proxies; run.sh puts the load generator (and so the rest of the bed) on CPU 0.</summary>
    public const string ProxyCpu = "1";

    /// <summary>"gateway on CPUs 1, …": where each bed process and the load generator may run (/proc/[pid]/status), for the report.</summary>
    public string Placement()
    {
        static string Cpus(int id)
        {
            try
            {
                var line = File.ReadLines($"/proc/{id}/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
                return line is null ? "?" : line["Cpus_allowed_list:".Length..].Trim();
            }
            catch (IOException)
            {
                return "?";
            }
        }

        return string.Join(", ", Processes().Append((Name: "loadgen", Id: Environment.ProcessId)).Select(p => $"{p.Name} on CPUs {Cpus(p.Id)}"));
    }

    /// <summary>
    /// The thread-pool minimum for the bed's own .NET processes (load generator, SampleApi) when they
    /// share CPU 0 under --pin-proxies. Confined to one CPU, .NET starts the pool with one worker and adds
    /// more only every ~0.5 s while it is busy: in pinned runs the generator then stalled for 0.3–1 s
    /// in some rounds, on the gateway's and on plain YARP's side alike (with this minimum it did not).
    /// The proxies keep the runtime's defaults: how they behave on one CPU is what is measured.
    /// </summary>
    public const int PinnedMinWorkerThreads = 8;

    private static readonly Dictionary<string, string> OneCpuThreadPool = new()
    {
        ["DOTNET_ThreadPool_ForceMinWorkerThreads"] = PinnedMinWorkerThreads.ToString(CultureInfo.InvariantCulture),
    };

    private ManagedProcess Launch(string name, string file, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var p = ManagedProcess.Start(name, file, args, _options.RepoRoot, LogPath(name), environment);
        _processes.Add(p);
        return p;
    }

    public void StartRedis()
    {
        if (RedisRunning)
        {
            return;
        }

        _redis?.Dispose();
        _redis = ManagedProcess.Start("redis-server", "redis-server",
            ["--port", RedisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            _options.RepoRoot, LogPath("redis"));
    }

    /// <summary>Kills redis-server (SIGKILL, as in a crash) and waits until the gateway reports itself degraded.</summary>
    public async Task StopRedisAsync(CancellationToken ct)
    {
        _redis?.Stop();
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(10) && !ct.IsCancellationRequested)
        {
            try
            {
                using var r = await probe.GetAsync(new Uri(Admin, "/readyz"), ct);
                if (!r.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50, ct);
        }
    }

    private async Task WaitRedisAsync()
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                using var c = new System.Net.Sockets.TcpClient();
                await c.ConnectAsync(System.Net.IPAddress.Loopback, RedisPort);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(20);
            }
        }

        throw new TimeoutException("redis-server did not accept connections; is it installed (apt-get install -y redis-server)?");
    }

    /// <summary>Grants marketing consent to the given subjects, written straight to Redis in the documented layout.</summary>
    public async Task GrantAsync(IEnumerable<string> subjects)
    {
        var db = (_mux ?? throw new InvalidOperationException("not started")).GetDatabase();
        var value = JsonSerializer.Serialize(new { status = "granted", expiresAt = (string?)null, updatedAt = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture), source = "loadtest" });
        var pending = new List<Task>(4096);
        foreach (var s in subjects)
        {
            pending.Add(db.HashSetAsync("consent:" + s, [new HashEntry("p:marketing", value), new HashEntry("v", 1)]));
            if (pending.Count == 4096)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending);
    }

    /// <summary>The load-test configuration: config/gateway.json with loopback ports, Redis, quiet logs and a POST /echo route filtered both ways.</summary>
    private string GenerateConfig(string source)
    {
        var root = JsonNode.Parse(File.ReadAllText(source), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
        root["Logging"] = new JsonObject
        {
            ["LogLevel"] = new JsonObject { ["Default"] = "Warning", ["Microsoft.Hosting.Lifetime"] = "Information" },
        };
        var gw = root[nameof(Gateway)]!.AsObject();
        gw["ProxyUrl"] = Gateway.ToString().TrimEnd('/');
        gw["AdminUrl"] = Admin.ToString().TrimEnd('/');
        var consent = root["Consent"]!.AsObject();
        consent["Redis"] = $"127.0.0.1:{RedisPort}";
        var policies = root["Policy"]!["Routes"]!.AsObject();
        var echo = policies["customer-profile"]!.DeepClone().AsObject();
        echo["Subject"] = new JsonObject { ["From"] = "header", ["Name"] = "X-Subject-Id" };
        echo["Direction"] = "both";
        policies["echo"] = echo;
        var proxy = root["ReverseProxy"]!.AsObject();
        proxy["Routes"]!.AsObject()["echo"] = new JsonObject
        {
            ["ClusterId"] = "sample",
            ["Match"] = new JsonObject { ["Path"] = "/echo", ["Methods"] = new JsonArray("POST") },
        };
        proxy["Clusters"]!["sample"]!["Destinations"] = new JsonObject
        {
            ["d1"] = new JsonObject { ["Address"] = Direct.ToString() },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    public async ValueTask DisposeAsync()
    {
        if (_mux is not null)
        {
            await _mux.DisposeAsync();
        }

        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            _processes[i].Dispose();
        }

        _redis?.Dispose();
    }

    /// <summary>All customer ids of the sample API.</summary>
    public static IEnumerable<string> Customers() => Enumerable.Range(FirstCustomer, CustomerCount).Select(i => "c-" + i.ToString(CultureInfo.InvariantCulture));

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
