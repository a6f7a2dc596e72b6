using System.Globalization;
using Microsoft.Diagnostics.Tracing;

// Summarises a dotnet-trace capture of GC AllocationTick events (provider
// Microsoft-Windows-DotNETRuntime:0x1:5) by allocated type, per request:
//   Gateway.AllocProfile TRACE.nettrace REQUESTS [TOP]
// The runtime raises one event per ~100 KB allocated, naming the type that crossed the threshold, so
// types that allocate less than a few hundred events' worth are sampled coarsely. Used by
// loadtests/alloc-profile.sh, which starts the processes, loads them with wrk and counts the requests.
if (args.Length < 2 || !long.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var requests) || requests <= 0)
{
    Console.Error.WriteLine("usage: Gateway.AllocProfile TRACE.nettrace REQUESTS [TOP]");
    return 2;
}

var top = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 25;
var byType = new Dictionary<string, (long Bytes, int Events)>(StringComparer.Ordinal);
long total = 0;
using (var source = new EventPipeEventSource(args[0]))
{
    source.Clr.GCAllocationTick += e =>
    {
        var name = e.TypeName ?? "(unknown)";
        var amount = e.AllocationAmount64;
        total += amount;
        var (bytes, events) = byType.GetValueOrDefault(name);
        byType[name] = (bytes + amount, events + 1);
    };
    source.Process();
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sampled {total / 1048576.0:F1} MB over {requests:N0} requests = {total / (double)requests:F0} B/request"));
Console.WriteLine("   B/req  events  type");
foreach (var (name, (bytes, events)) in byType.OrderByDescending(kv => kv.Value.Bytes).Take(top))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)requests,8:F0}  {events,6}  {name}"));
}

return 0;
