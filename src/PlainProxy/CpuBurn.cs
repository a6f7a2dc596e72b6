using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PlainProxy;

/// <summary>
/// <c>--burn-us N</c>: a fixed amount of CPU work on every proxied request, for the load tests' second
/// floor (<c>run.sh --floor-burn N</c>). The floor with and without it, in one run, puts two points on
/// the line from CPU per request to p99 at a fixed rate, the line the gateway's p99 added is judged
/// against. The work is a count of dependent integer steps calibrated at start-up, not a wall-clock
/// wait, so a preempted request still costs its full share of CPU, as real per-request work does.
/// The report's CPU per request, by process, says what it came to.
/// </summary>
internal sealed partial class CpuBurn
{
    private static long s_sink;
    private readonly long _steps;

    private CpuBurn(long steps) => _steps = steps;

    /// <summary>Steps per request: microseconds times the fastest rate seen over a few timed trials.</summary>
    public long Steps => _steps;

    public static CpuBurn Calibrate(double microseconds)
    {
        const long TrialSteps = 2_000_000;
        var fastest = double.MaxValue;
        for (var trial = 0; trial < 15; trial++)
        {
            var started = ThreadCpuMicroseconds();
            Spin(TrialSteps);
            fastest = Math.Min(fastest, ThreadCpuMicroseconds() - started);
        }

        // Timed in this thread's CPU time, since the bed's processes all start (and compile) at once on
        // two cores: timed by the wall clock, every trial was preempted and the burn came out at half
        // what was asked (session 23, long70). The fastest trial still rules out cache warm-up.
        return new CpuBurn((long)Math.Round(microseconds * TrialSteps / Math.Max(fastest, 1)));
    }

    /// <summary>The calling thread's CPU time on Linux (CLOCK_THREAD_CPUTIME_ID); elsewhere the wall clock, preemption and all.</summary>
    private static double ThreadCpuMicroseconds()
    {
        const int ClockThreadCpuTime = 3;
        if (OperatingSystem.IsLinux() && ClockGetTime(ClockThreadCpuTime, out var time) == 0)
        {
            return (time.Seconds * 1e6) + (time.Nanoseconds / 1e3);
        }

        return Stopwatch.GetTimestamp() * 1e6 / Stopwatch.Frequency;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    public void Run() => Spin(_steps);

    /// <summary>At warning level, the only one PlainProxy logs at: a burning proxy must say so in its log.</summary>
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Burning {Microseconds} us of CPU per request ({Steps} steps, calibrated at start-up)")]
    public static partial void LogCalibrated(ILogger logger, double microseconds, long steps);

    // Optimised from the first call: a tier-0 or on-stack-replaced loop timed at start-up would calibrate against slower code.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Spin(long steps)
    {
        // A xorshift chain: each step depends on the last, so neither the JIT nor the CPU can skip or overlap steps.
        ulong x = 0x9E3779B97F4A7C15;
        for (long i = 0; i < steps; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }

        Volatile.Write(ref s_sink, (long)x);
    }
}
