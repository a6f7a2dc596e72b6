using System.Globalization;

namespace ConsentGateway.LoadTests;

/// <summary>Command-line options of a run.</summary>
internal sealed class LoadTestOptions
{
    public string RepoRoot { get; set; } = FindRepoRoot(AppContext.BaseDirectory);

    /// <summary>Build configuration of the binaries to launch (defaults to the harness's own).</summary>
#if DEBUG
    public string Configuration { get; set; } = "Debug";
#else
    public string Configuration { get; set; } = "Release";
#endif

    public string OutputDirectory { get; set; } = "";

    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(8);

    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Unrecorded traffic through both proxies before the first measurement, so tiered compilation has
    /// finished: on 2 shared cores it keeps recompiling hot methods for ~20 s of load, and a process
    /// still in tier 0 would be measured against one that is not.
    /// </summary>
    public TimeSpan JitWarmup { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Workers of the closed-model capacity scenarios.</summary>
    public int Concurrency { get; set; } = 32;

    /// <summary>Smoke run: a few scenarios, tiny rates, ~1 s each.</summary>
    public bool Smoke { get; set; }

    public bool Wrk { get; set; } = true;

    /// <summary>Rounds the compared scenarios (direct / yarp / gateway) are interleaved in.</summary>
    public int Rounds { get; set; } = 4;

    /// <summary>Fail the run (exit 1) when a performance goal is missed, not only a correctness threshold.</summary>
    public bool EnforceGoals { get; set; }

    /// <summary>Only run scenarios whose name contains one of these.</summary>
    public List<string> Only { get; } = [];

    /// <summary>
    /// Runs the gateway and plain YARP on CPU 1 and everything else on CPU 0 (run.sh starts the load
    /// generator under `taskset -c 0`; its children inherit it). For the p99 goal: on two shared cores
    /// the proxies otherwise compete with the generator and the upstream, and the fixed "half capacity"
    /// rate leaves the machine near saturation. Linux with at least 2 CPUs and taskset (util-linux).
    /// </summary>
    public bool PinProxies { get; set; }

    /// <summary>
    /// Also runs the floor proxy (plain YARP that buffers and checks every JSON body, PlainProxy
    /// --buffer-json) in the 8 KB groups and the fixed-rate group: what buffering and one check cost
    /// without any enforcement, measured beside the gateway.
    /// </summary>
    public bool Floor { get; set; }

    /// <summary>
    /// Microseconds of CPU work per request for a second floor proxy (PlainProxy --buffer-json --burn-us),
    /// run beside the first in the GET 8 KB capacity and fixed-rate groups (--floor-burn US, which
    /// implies --floor); 0 for none. Two floors a known amount of CPU apart measure, in one run, how
    /// much p99 at the fixed rate a microsecond per request costs.
    /// </summary>
    public double FloorBurnUs { get; set; }

    /// <summary>
    /// Leaves each proxy's upstream pool as large as the opening happens to make it (--cold-pools),
    /// instead of filling it to the scenario's connection limit (<see cref="Engine.UpstreamPoolFill"/>):
    /// for comparing with runs made before the fill existed.
    /// </summary>
    public bool ColdPools { get; set; }

    /// <summary>
    /// The fixed-rate group's rate (req/s) when given; otherwise half the gateway's measured GET 8 KB
    /// capacity. For looking at latency away from the goal's rate, e.g. where nothing queues.
    /// </summary>
    public double? FixedRate { get; set; }

    public string Command { get; set; } = Environment.CommandLine;

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public static LoadTestOptions Parse(string[] args)
    {
        var o = new LoadTestOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--out": o.OutputDirectory = Path.GetFullPath(Next()); break;
                case "--root": o.RepoRoot = Path.GetFullPath(Next()); break;
                case "--configuration": o.Configuration = Next(); break;
                case "--duration": o.Duration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--warmup": o.Warmup = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--jit-warmup": o.JitWarmup = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--concurrency": o.Concurrency = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rounds": o.Rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--smoke": o.Smoke = true; break;
                case "--no-wrk": o.Wrk = false; break;
                case "--enforce-goals": o.EnforceGoals = true; break;
                case "--only": o.Only.AddRange(Next().Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
                case "--pin-proxies": o.PinProxies = true; break;
                case "--floor": o.Floor = true; break;
                case "--cold-pools": o.ColdPools = true; break;
                case "--floor-burn": o.FloorBurnUs = double.Parse(Next(), CultureInfo.InvariantCulture) is var us and > 0 ? us : throw new ArgumentException("--floor-burn must be above 0"); o.Floor = true; break;
                case "--fixed-rate": o.FixedRate = double.Parse(Next(), CultureInfo.InvariantCulture) is var r and > 0 ? r : throw new ArgumentException("--fixed-rate must be above 0"); break;
                case "--command": o.Command = Next(); break;
                case "-h" or "--help": throw new ArgumentException(Usage);
                default: throw new ArgumentException($"unknown option {args[i]}\n{Usage}");
            }
        }

        if (o.Smoke && !args.Contains("--duration"))
        {
            o.Duration = TimeSpan.FromSeconds(0.4);
        }

        if (o.Smoke && !args.Contains("--warmup"))
        {
            o.Warmup = TimeSpan.FromSeconds(0.15);
        }

        if (o.Smoke && !args.Contains("--jit-warmup"))
        {
            o.JitWarmup = TimeSpan.Zero;
        }

        if (o.Smoke)
        {
            o.Wrk = false;
            o.Rounds = args.Contains("--rounds") ? o.Rounds : 1;
            o.Concurrency = Math.Min(o.Concurrency, 2);
            o.RequestTimeout = TimeSpan.FromSeconds(10);
        }

        if (string.IsNullOrEmpty(o.OutputDirectory))
        {
            o.OutputDirectory = Path.Combine(o.RepoRoot, "loadtests", "results");
        }

        return o;
    }

    public const string Usage = """
        usage: Gateway.LoadTests [--out DIR] [--duration S] [--warmup S] [--jit-warmup S] [--concurrency N] [--smoke]
                                 [--rounds N] [--no-wrk] [--enforce-goals] [--only a,b] [--pin-proxies] [--floor] [--floor-burn US] [--cold-pools] [--fixed-rate R] [--configuration Release|Debug] [--root REPO]
        """;

    private static string FindRepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
