using System.Globalization;

namespace ConsentGateway.LoadTests.Engine;

/// <summary>
/// The established TCP connections each bed process holds to the upstream's port, from /proc (Linux
/// only; elsewhere <see cref="TryRead"/> returns null and the report shows no figure). A proxy that
/// grows its upstream pool inside a measured round times its connect path, and the JIT's first
/// compilation of it, in that round's latency; comparing two samples says which rounds did.
/// Sockets are told apart by inode, so a new connection on a reused local port still counts as new.
/// A connection opened and closed between two samples is not seen.
/// </summary>
internal sealed class UpstreamSockets(Func<IEnumerable<(string Name, int Id)>> bedProcesses, int upstreamPort)
{
    private const string Established = "01";

    /// <summary>Each process's established sockets to the upstream port (inodes), by process name.</summary>
    public sealed record Sample(IReadOnlyDictionary<string, HashSet<ulong>> ByProcess);

    public Sample? TryRead()
    {
        if (!File.Exists("/proc/net/tcp"))
        {
            return null;
        }

        var toUpstream = new HashSet<ulong>();
        try
        {
            foreach (var table in (ReadOnlySpan<string>)["/proc/net/tcp", "/proc/net/tcp6"])
            {
                if (File.Exists(table))
                {
                    foreach (var line in File.ReadLines(table))
                    {
                        if (TryParseConnection(line, upstreamPort, out var inode))
                        {
                            toUpstream.Add(inode);
                        }
                    }
                }
            }
        }
        catch (IOException)
        {
            return null;
        }

        var byProcess = new Dictionary<string, HashSet<ulong>>(StringComparer.Ordinal);
        foreach (var (name, id) in bedProcesses())
        {
            if (!byProcess.TryGetValue(name, out var mine))
            {
                byProcess[name] = mine = [];
            }

            AddOwnSockets(id, toUpstream, mine);
        }

        return new Sample(byProcess);
    }

    /// <summary>Sockets each process holds in <paramref name="after"/> that it did not hold in <paramref name="before"/>; empty without both samples.</summary>
    public static Dictionary<string, long> Opened(Sample? before, Sample? after)
    {
        var opened = new Dictionary<string, long>(StringComparer.Ordinal);
        if (before is not { } a || after is not { } b)
        {
            return opened;
        }

        foreach (var (name, now) in b.ByProcess)
        {
            var earlier = a.ByProcess.GetValueOrDefault(name);
            long n = 0;
            foreach (var inode in now)
            {
                if (earlier is null || !earlier.Contains(inode))
                {
                    n++;
                }
            }

            opened[name] = n;
        }

        return opened;
    }

    /// <summary>
    /// One row of /proc/net/tcp or tcp6 ("sl local rem st tx:rx tr:when retrnsmt uid timeout inode …"):
    /// true with its inode when it is an established connection whose remote port is <paramref name="port"/>
    /// (the client's side; the upstream's accepted side has the port as its local one).
    /// </summary>
    internal static bool TryParseConnection(string line, int port, out ulong inode)
    {
        inode = 0;
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 10 || f[3] != Established)
        {
            return false;
        }

        var remote = f[2];
        var colon = remote.LastIndexOf(':');
        return colon > 0
            && int.TryParse(remote.AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var remotePort)
            && remotePort == port
            && ulong.TryParse(f[9], NumberStyles.None, CultureInfo.InvariantCulture, out inode)
            && inode != 0;
    }

    private static void AddOwnSockets(int processId, HashSet<ulong> toUpstream, HashSet<ulong> mine)
    {
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{processId}/fd"))
            {
                if (SocketInode(fd) is { } inode && toUpstream.Contains(inode))
                {
                    mine.Add(inode);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Exited (the Redis-down scenario stops redis-server) or not ours to read: no sockets counted.
        }
    }

    /// <summary>The inode of a descriptor that is a socket ("socket:[12345]"); null for anything else or one closed since the listing.</summary>
    private static ulong? SocketInode(string fd)
    {
        string? target;
        try
        {
            target = new FileInfo(fd).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }

        const string Prefix = "socket:[";
        return target is not null && target.StartsWith(Prefix, StringComparison.Ordinal) && target.EndsWith(']')
            && ulong.TryParse(target.AsSpan(Prefix.Length, target.Length - Prefix.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var inode)
            ? inode
            : null;
    }
}
