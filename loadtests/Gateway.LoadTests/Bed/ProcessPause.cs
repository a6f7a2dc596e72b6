using System.Runtime.InteropServices;

namespace ConsentGateway.LoadTests.Bed;

/// <summary>
/// Stops a process (SIGSTOP) until disposed (SIGCONT). Linux only; the harness only ever pauses a
/// process of its own bed, for well under a second.
/// </summary>
internal sealed class ProcessPause : IDisposable
{
    // The same numbers on every Linux architecture .NET runs on (x64, arm64).
    private const int SigStop = 19;
    private const int SigCont = 18;

    private readonly int _processId;
    private int _resumed;

    private ProcessPause(int processId) => _processId = processId;

    /// <summary>Stops the process; null when it cannot be (not Linux, or the signal was refused).</summary>
    public static ProcessPause? TryStop(int processId) =>
        OperatingSystem.IsLinux() && Kill(processId, SigStop) == 0 ? new ProcessPause(processId) : null;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _resumed, 1) == 0)
        {
            _ = Kill(_processId, SigCont);
        }
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
