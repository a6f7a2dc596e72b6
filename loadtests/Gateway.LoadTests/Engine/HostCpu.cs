using System.Globalization;
using System.Runtime.InteropServices;

namespace ConsentGateway.LoadTests.Engine;

/// <summary>
/// CPU accounting per round from /proc (Linux only; elsewhere <see cref="TryRead"/> returns null and
/// the report shows no figure):
/// <list type="bullet">
/// <item>how much of the machine something other than the test bed used (the host's busy time, steal
/// included, less the CPU of the bed's processes and of this load generator). The load average cannot
/// tell this: the run's own threads push it to 7 or more on two cores;</item>
/// <item>each bed process's CPU time, so a round's CPU per request can be given by process (load
/// generator, upstream, proxy): steadier than throughput, which moves with everything sharing the cores.</item>
/// </list>
/// </summary>
internal sealed class HostCpu(Func<IEnumerable<(string Name, int Id)>> bedProcesses)
{
    public const string LoadGenerator = "loadgen";

    /// <summary>A process's CPU ticks (utime + stime) at one moment.</summary>
    public readonly record struct ProcessTicks(string Name, long Ticks);

    /// <summary>CPU ticks at one moment: the machine's busy and total, and each bed process's own (by id).</summary>
    public sealed record Sample(long Busy, long Total, IReadOnlyDictionary<int, ProcessTicks> Bed);

    /// <summary>Clock ticks per second of /proc's CPU times (USER_HZ).</summary>
    public static double TicksPerSecond { get; } = ReadTicksPerSecond();

    public Sample? TryRead()
    {
        try
        {
            if (!File.Exists("/proc/stat"))
            {
                return null;
            }

            var (busy, total) = ParseCpuLine(File.ReadLines("/proc/stat").First());
            var bed = new Dictionary<int, ProcessTicks>();
            foreach (var (name, id) in bedProcesses().Append((LoadGenerator, Environment.ProcessId)))
            {
                if (ReadProcessTicks(id) is { } ticks)
                {
                    bed[id] = new ProcessTicks(name, ticks);
                }
            }

            return new Sample(busy, total, bed);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The share (0–1) of all CPU time between two samples used outside the bed; null without samples or elapsed ticks.</summary>
    public static double? ForeignShare(Sample? before, Sample? after)
    {
        if (before is not { } a || after is not { } b || b.Total <= a.Total)
        {
            return null;
        }

        // A process in only one sample (redis-server stopped or restarted in the round) has no
        // delta to subtract; its CPU in the round counts as foreign, which over-states, never hides.
        long bed = 0;
        foreach (var ticks in ByProcess(a, b).Values)
        {
            bed += ticks;
        }

        var foreign = (b.Busy - a.Busy) - bed;
        return Math.Clamp((double)foreign / (b.Total - a.Total), 0, 1);
    }

    /// <summary>Ticks each bed process (by name) used between two samples; processes in only one sample are left out.</summary>
    public static Dictionary<string, long> ByProcess(Sample? before, Sample? after)
    {
        var used = new Dictionary<string, long>(StringComparer.Ordinal);
        if (before is not { } a || after is not { } b)
        {
            return used;
        }

        foreach (var (id, now) in b.Bed)
        {
            if (a.Bed.TryGetValue(id, out var earlier))
            {
                used[now.Name] = used.GetValueOrDefault(now.Name) + (now.Ticks - earlier.Ticks);
            }
        }

        return used;
    }

    /// <summary>The aggregate "cpu" line of /proc/stat: busy = user + nice + system + irq + softirq + steal; total adds idle and iowait.</summary>
    internal static (long Busy, long Total) ParseCpuLine(string line)
    {
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 9 || f[0] != "cpu")
        {
            throw new FormatException($"not the aggregate cpu line of /proc/stat: {line}");
        }

        long F(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
        long user = F(1), nice = F(2), system = F(3), idle = F(4), iowait = F(5), irq = F(6), softirq = F(7), steal = F(8);
        var busy = user + nice + system + irq + softirq + steal;
        return (busy, busy + idle + iowait);
    }

    /// <summary>utime + stime of a process from /proc/[pid]/stat (fields 14 and 15; the name in parentheses may hold spaces).</summary>
    internal static long ParseProcessStat(string stat)
    {
        var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
    }

    private static long? ReadProcessTicks(int id)
    {
        try
        {
            return ParseProcessStat(File.ReadAllText($"/proc/{id}/stat"));
        }
        catch (IOException)
        {
            return null; // exited (the Redis-down scenario stops redis-server)
        }
    }

    private static double ReadTicksPerSecond()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 100;
        }

        const int ScClkTck = 2; // glibc and musl
        var ticks = SysConf(ScClkTck);
        return ticks > 0 ? ticks : 100;
    }

    [DllImport("libc", EntryPoint = "sysconf")]
    private static extern long SysConf(int name);
}
