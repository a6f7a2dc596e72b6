using System.Net;
using System.Net.Sockets;
using ConsentGateway.LoadTests.Engine;

namespace ConsentGateway.Tests.LoadTests;

/// <summary>Counting the connections a process holds to the upstream's port, from /proc, on real sockets.</summary>
public sealed class UpstreamSocketsTests
{
    // Rows of /proc/net/tcp and tcp6: "sl local rem st tx:rx tr:when retrnsmt uid timeout inode …"; 0x1F90 is port 8080.
    private const string ClientSide = "   3: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 20 4 30 10 -1";
    private const string ServerSide = "   4: 0100007F:1F90 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000  1000        0 4243 1 0000000000000000 20 4 30 10 -1";
    private const string Listening = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4244 1 0000000000000000 100 0 0 10 0";
    private const string ClosingClient = "   5: 0100007F:A1B3 0100007F:1F90 06 00000000:00000000 03:00001234 00000000     0        0 0 3 0000000000000000";
    private const string Tcp6Client = "   1: 0000000000000000FFFF00000100007F:C350 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 5151 1 0000000000000000 20 4 30 10 -1";

    [Fact]
    public void Only_established_client_sides_to_the_port_are_read()
    {
        Assert.True(UpstreamSockets.TryParseConnection(ClientSide, 8080, out var inode));
        Assert.Equal(4242UL, inode);
        Assert.True(UpstreamSockets.TryParseConnection(Tcp6Client, 8080, out inode));
        Assert.Equal(5151UL, inode);

        Assert.False(UpstreamSockets.TryParseConnection(ServerSide, 8080, out _));
        Assert.False(UpstreamSockets.TryParseConnection(Listening, 8080, out _));
        Assert.False(UpstreamSockets.TryParseConnection(ClosingClient, 8080, out _));
        Assert.False(UpstreamSockets.TryParseConnection(ClientSide, 8081, out _));
        Assert.False(UpstreamSockets.TryParseConnection("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", 8080, out _));
    }

    [Fact]
    public void Opened_counts_sockets_new_since_the_earlier_sample_by_process()
    {
        var before = new UpstreamSockets.Sample(new Dictionary<string, HashSet<ulong>> { ["gateway"] = [1, 2, 3], ["plainproxy"] = [7] });
        var after = new UpstreamSockets.Sample(new Dictionary<string, HashSet<ulong>> { ["gateway"] = [2, 3, 4, 5], ["plainproxy"] = [7], ["floorproxy"] = [9] });

        Assert.Equal(new Dictionary<string, long> { ["gateway"] = 2, ["plainproxy"] = 0, ["floorproxy"] = 1 }, UpstreamSockets.Opened(before, after));
        Assert.Empty(UpstreamSockets.Opened(null, after));
        Assert.Empty(UpstreamSockets.Opened(before, null));
    }

    [Fact]
    public void A_real_connection_is_counted_once_on_its_client_side_and_no_longer_once_closed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        // This process holds both ends of each connection; only the client's side is to the port. A
        // process that has exited (or never was) holds none.
        var probe = new UpstreamSockets(() => [("self", Environment.ProcessId), ("gone", int.MaxValue)], port);
        if (!OperatingSystem.IsLinux())
        {
            Assert.Null(probe.TryRead());
            return;
        }

        var none = probe.TryRead()!;
        Assert.Empty(none.ByProcess["self"]);
        Assert.Empty(none.ByProcess["gone"]);

        using var first = new TcpClient();
        first.Connect(IPAddress.Loopback, port);
        using var firstAccepted = listener.AcceptTcpClient();
        var one = probe.TryRead()!;
        Assert.Single(one.ByProcess["self"]);

        using var second = new TcpClient();
        second.Connect(IPAddress.Loopback, port);
        using var secondAccepted = listener.AcceptTcpClient();
        var two = probe.TryRead()!;
        Assert.Equal(2, two.ByProcess["self"].Count);
        Assert.Equal(1, UpstreamSockets.Opened(one, two)["self"]);
        Assert.Equal(2, UpstreamSockets.Opened(none, two)["self"]);

        first.Close();
        var three = probe.TryRead()!;
        Assert.True(three.ByProcess["self"].SetEquals(two.ByProcess["self"].Except(one.ByProcess["self"])));
        Assert.Equal(0, UpstreamSockets.Opened(two, three)["self"]);
        Assert.Empty(three.ByProcess["gone"]);
    }
}
