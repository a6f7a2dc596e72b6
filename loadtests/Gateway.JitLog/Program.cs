using System.Globalization;
using Microsoft.Diagnostics.Tracing;

// Lists every method the JIT compiled in a dotnet-trace capture of the runtime's JIT events
// (provider Microsoft-Windows-DotNETRuntime with keyword 0x10 at level 5), one CSV row each, then a
// summary on stderr:
//   Gateway.JitLog TRACE.nettrace > jit.csv
// A row runs from MethodJittingStarted to the method's MethodLoadVerbose: the compilation's wall
// time on the thread that compiled it. A tier-0 compilation holds up the request that first called the
// method; a tier-1 one (tiered compilation's background worker) holds up nobody directly, but on a
// 2-core machine it takes a core from everything else while it runs. Used by loadtests/gc-probe.sh
// with JIT=1, which joins the rows with a run's fixed-rate rounds.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Gateway.JitLog TRACE.nettrace > jit.csv");
    return 2;
}

var started = new Dictionary<long, (DateTime At, int IlSize)>();
var compilations = new List<Compilation>();
var lastEvent = DateTime.MinValue;
string? truncated = null;
using (var source = new EventPipeEventSource(args[0]))
{
    source.AllEvents += e => lastEvent = e.TimeStamp.ToUniversalTime();
    source.Clr.MethodJittingStarted += e => started[e.MethodID] = (e.TimeStamp.ToUniversalTime(), e.MethodILSize);
    source.Clr.MethodLoadVerbose += e =>
    {
        if (!started.Remove(e.MethodID, out var start))
        {
            return; // loaded without compiling here (precompiled code), or its start came before the trace did
        }

        var ms = (e.TimeStamp.ToUniversalTime() - start.At).TotalMilliseconds;
        compilations.Add(new Compilation(start.At, ms, e.OptimizationTier.ToString(), start.IlSize, $"{e.MethodNamespace}::{e.MethodName}"));
    };
    try
    {
        source.Process();
    }
    catch (FormatException ex)
    {
        // The bed's processes are killed when a run ends, so the trace stops mid-block (as in Gateway.GcPauses).
        truncated = ex.Message;
    }
}

var invariant = CultureInfo.InvariantCulture;
Console.WriteLine("startedUtc,jitMs,tier,ilSize,method");
foreach (var c in compilations)
{
    Console.WriteLine(string.Create(invariant,
        $"{c.StartedUtc:yyyy-MM-ddTHH:mm:ss.ffffff},{c.Ms:F3},{c.Tier},{c.IlSize},\"{c.Method.Replace("\"", "\"\"", StringComparison.Ordinal)}\""));
}

if (compilations.Count > 0)
{
    var total = compilations.Sum(c => c.Ms);
    Console.Error.WriteLine(string.Create(invariant,
        $"{compilations.Count} compilations, {total:F1} ms in all; trace ends {lastEvent:HH:mm:ss.fff}{(truncated is null ? string.Empty : " (cut off)")}"));
    foreach (var c in compilations.OrderByDescending(c => c.Ms).Take(5))
    {
        Console.Error.WriteLine(string.Create(invariant, $"  {c.Ms,7:F1} ms {c.Tier} {c.StartedUtc:HH:mm:ss.fff} {c.Method}"));
    }
}

return 0;

internal sealed record Compilation(DateTime StartedUtc, double Ms, string Tier, int IlSize, string Method);
