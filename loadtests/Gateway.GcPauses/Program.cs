using System.Globalization;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// Lists every pause the garbage collector made in a dotnet-trace capture of the runtime's GC events
// (provider Microsoft-Windows-DotNETRuntime:0x1:4), one CSV row each, then a summary on stderr:
//   Gateway.GcPauses TRACE.nettrace > pauses.csv
// A pause runs from the runtime's request to suspend managed threads to the end of their restart, so
// it includes the time taken to reach a safe point, which is what a request in flight waits for.
// Each row names the collection that ran inside the pause and the number of heaps the GC had then,
// because with DATAS (dynamic adaptation, the server GC's default since .NET 9) that number changes
// at run time. Used by loadtests/gc-probe.sh, which joins the rows with a run's slow rounds.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Gateway.GcPauses TRACE.nettrace > pauses.csv");
    return 2;
}

var pauses = new List<Pause>();
DateTime? suspendStarted = null;
GcInfo? current = null;
var heaps = 0;
var heapChanges = 0;
var lastEvent = DateTime.MinValue;
string? truncated = null;
using (var source = new EventPipeEventSource(args[0]))
{
    source.AllEvents += e => lastEvent = e.TimeStamp.ToUniversalTime();
    source.Clr.GCSuspendEEStart += e =>
    {
        suspendStarted = e.TimeStamp.ToUniversalTime();
        current = null;
    };
    source.Clr.GCStart += e => current = new GcInfo(e.Count, e.Depth, e.Reason.ToString(), e.Type.ToString());
    source.Clr.GCGlobalHeapHistory += e =>
    {
        if (heaps != 0 && e.NumHeaps != heaps)
        {
            heapChanges++;
        }

        heaps = e.NumHeaps;
    };
    source.Clr.GCRestartEEStop += e =>
    {
        if (suspendStarted is not { } started)
        {
            return;
        }

        var ended = e.TimeStamp.ToUniversalTime();
        pauses.Add(new Pause(started, (ended - started).TotalMilliseconds, current, heaps));
        suspendStarted = null;
    };
    try
    {
        source.Process();
    }
    catch (FormatException ex)
    {
        // The bed's processes are killed when a run ends, so the trace stops mid-block; every event
        // before the last flush has been read, and the summary says where the trace ends.
        truncated = ex.Message;
    }
}

var invariant = CultureInfo.InvariantCulture;
Console.WriteLine("startedUtc,pauseMs,gc,gen,reason,type,heaps");
foreach (var p in pauses)
{
    Console.WriteLine(string.Create(invariant,
        $"{p.StartedUtc:yyyy-MM-ddTHH:mm:ss.ffffff},{p.Ms:F3},{p.Gc?.Number},{p.Gc?.Generation},{p.Gc?.Reason},{p.Gc?.Type},{p.Heaps}"));
}

if (pauses.Count > 0)
{
    var sorted = pauses.Select(p => p.Ms).Order().ToArray();
    Console.Error.WriteLine(string.Create(invariant,
        $"{pauses.Count} pauses over {(pauses[^1].StartedUtc - pauses[0].StartedUtc).TotalSeconds:F0} s: median {sorted[sorted.Length / 2]:F2} ms, " +
        $"p99 {sorted[(int)(sorted.Length * 0.99)]:F2} ms, max {sorted[^1]:F2} ms; heap count changed {heapChanges} times, last {heaps}; " +
        $"trace ends {lastEvent:HH:mm:ss.fff}{(truncated is null ? string.Empty : " (cut off: " + truncated + ")")}"));
}

return 0;

internal sealed record GcInfo(int Number, int Generation, string Reason, string Type);

internal sealed record Pause(DateTime StartedUtc, double Ms, GcInfo? Gc, int Heaps);
