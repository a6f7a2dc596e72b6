using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ConsentGateway.Testing;

/// <summary>
/// A real, throw-away <c>redis-server</c> on a free loopback port, with the faults the consent tier
/// must survive: <see cref="Stop"/>/<see cref="Start"/> (loss and return on the same port) and
/// <see cref="Pause"/>/<see cref="Resume"/> (a server that accepts bytes but never answers).
/// Nothing is persisted (<c>--save "" --appendonly no</c>).
/// </summary>
/// <remarks>
/// One source file, linked into the test project and into Gateway.RevocationBench (see their .csproj
/// files), so both start and watch redis-server the same way. It is public because public xunit
/// fixtures expose it; no assembly that links it references another one that does.
/// </remarks>
public sealed class RedisServer : IDisposable
{
    public const string InstallHint = "apt-get install -y redis-server (Debian/Ubuntu), or put redis-server on PATH";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(10);
    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <summary>Starts the redis-server found on PATH; see <see cref="RedisServer(string)"/>.</summary>
    public RedisServer()
        : this(FindExecutable() ?? throw new InvalidOperationException($"redis-server was not found on PATH. Install it with: {InstallHint}"))
    {
    }

    /// <summary>Starts on a free port (trying another if a parallel test grabbed it meanwhile).</summary>
    public RedisServer(string executable)
    {
        Executable = executable;
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            try
            {
                Start();
                return;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                Stop();
            }
        }
    }

    public string Executable { get; }

    public int Port { get; private set; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the server (again, on the same port) and waits until it answers PING.</summary>
    public void Start() => Start([]);

    /// <summary>
    /// As <see cref="Start()"/>, with extra configuration directives for this start only, e.g.
    /// <c>["--user", "default", "on", "nopass", "~*", "resetchannels", "+@all"]</c>.
    /// </summary>
    public void Start(IReadOnlyList<string> extraArguments)
    {
        ArgumentNullException.ThrowIfNull(extraArguments);
        if (IsRunning)
        {
            return;
        }

        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var arg in extraArguments)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        WaitUntilReady();
    }

    /// <summary>Kills the server (SIGKILL): connections drop at once, as in a crash.</summary>
    public void Stop()
    {
        var process = _process;
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process.Dispose();
        _process = null;
    }

    /// <summary>SIGSTOP: sockets stay open, nothing is answered.</summary>
    public void Pause() => Signal("-STOP");

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume() => Signal("-CONT");

    public void Dispose() => Stop();

    /// <summary>
    /// Sends one command on a fresh connection of its own and returns the reply's first line (e.g.
    /// <c>+OK</c>, <c>-NOPERM ...</c>, <c>:1</c>), so tests can reconfigure the server behind the
    /// client under test without going through it.
    /// </summary>
    public string Command(params string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var request = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }

        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, Port);
        client.ReceiveTimeout = 5000;
        using var reader = new StreamReader(client.GetStream(), Encoding.UTF8);
        client.GetStream().Write(Encoding.UTF8.GetBytes(request.ToString()));
        return reader.ReadLine() ?? throw new IOException($"redis-server on port {Port} closed the connection without a reply");
    }

    /// <summary>What <c>redis-server --version</c> prints, for reports; "unknown" if it cannot be run.</summary>
    public static string Version(string executable)
    {
        try
        {
            var info = new ProcessStartInfo(executable, "--version") { RedirectStandardOutput = true, UseShellExecute = false };
            using var process = Process.Start(info) ?? throw new InvalidOperationException($"{executable} did not start");
            var text = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return text;
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
        {
            return "unknown";
        }
    }

    /// <summary>The first <c>redis-server</c> on PATH, or null.</summary>
    public static string? FindExecutable()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private void Signal(string signal)
    {
        var process = _process ?? throw new InvalidOperationException("redis-server is not running");
        var info = new ProcessStartInfo("kill") { UseShellExecute = false };
        info.ArgumentList.Add(signal);
        info.ArgumentList.Add(process.Id.ToString(CultureInfo.InvariantCulture));
        using var kill = Process.Start(info) ?? throw new InvalidOperationException("kill did not start");
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} failed with exit code {kill.ExitCode}");
        }
    }

    private void WaitUntilReady()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ReadyTimeout)
        {
            if (_process is null || _process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited during start-up on port {Port}:{Environment.NewLine}{Output()}");
            }

            if (Ping())
            {
                return;
            }

            Thread.Sleep(20);
        }

        throw new TimeoutException($"redis-server did not answer PING on port {Port} within {ReadyTimeout}:{Environment.NewLine}{Output()}");
    }

    private bool Ping()
    {
        try
        {
            return Command("PING").StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
