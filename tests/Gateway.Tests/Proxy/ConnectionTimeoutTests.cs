using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ConsentGateway.Hosting;
using ConsentGateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConsentGateway.Tests.Proxy;

/// <summary>
/// How long idle connections are kept, on both sides of the gateway (Gateway:ClientKeepAliveTimeout,
/// Gateway:UpstreamIdleTimeout), against a real Kestrel gateway and upstream.
/// </summary>
public sealed class ConnectionTimeoutTests
{
    [Fact]
    public void Defaults_keep_idle_connections_for_ten_minutes_and_are_valid()
    {
        var o = new GatewayOptions { HashKey = TestConfig.HashKey };

        Assert.Equal(TimeSpan.FromMinutes(10), o.ClientKeepAliveTimeout);
        Assert.Equal(TimeSpan.FromMinutes(10), o.UpstreamIdleTimeout);
        Assert.True(new GatewayOptionsValidator().Validate(null, o).Succeeded);
    }

    [Theory]
    [InlineData("ClientKeepAliveTimeout", "00:00:00")]
    [InlineData("ClientKeepAliveTimeout", "2.00:00:00")]
    [InlineData("UpstreamIdleTimeout", "-00:00:01")]
    [InlineData("UpstreamIdleTimeout", "00:00:00.5")]
    public async Task Out_of_range_timeouts_stop_start_up_naming_the_key(string key, string value)
    {
        await using var upstream = await RecordingUpstream.StartAsync();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            GatewayHost.StartAsync(TestConfig.Create(upstream.BaseAddress), new Dictionary<string, string?> { ["Gateway:" + key] = value }));

        Assert.Contains(ex.Failures, f => f.StartsWith($"Gateway:{key} must be between 00:00:01 and 1.00:00:00", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_configured_keep_alive_reaches_kestrel()
    {
        await using var upstream = await RecordingUpstream.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(TestConfig.Create(upstream.BaseAddress));

        var kestrel = gateway.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;

        Assert.Equal(TimeSpan.FromMinutes(10), kestrel.Limits.KeepAliveTimeout);
    }

    [Fact]
    public async Task An_idle_caller_connection_is_closed_by_the_gateway_after_the_keep_alive_timeout()
    {
        await using var upstream = await RecordingUpstream.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(
            TestConfig.Create(upstream.BaseAddress), new Dictionary<string, string?> { ["Gateway:ClientKeepAliveTimeout"] = "00:00:01" });
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, gateway.AdminAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync("GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"u8.ToArray());

        // Kestrel's default (130 s) would outlast this wait; the configured second does not.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = new StringBuilder();
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer, cts.Token)) > 0)
        {
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        Assert.StartsWith("HTTP/1.1 200 OK", received.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Connection: close", received.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_pooled_upstream_connection_is_reused_while_young_and_replaced_once_idle_past_the_timeout()
    {
        await using var upstream = await RecordingUpstream.StartAsync();
        var connections = new ConcurrentQueue<string>();
        upstream.Respond(async (context, _) =>
        {
            connections.Enqueue(context.Connection.Id);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{}");
        });
        await using var shortIdle = await GatewayHost.StartAsync(
            TestConfig.Create(upstream.BaseAddress), new Dictionary<string, string?> { ["Gateway:UpstreamIdleTimeout"] = "00:00:01" });
        await using var defaults = await GatewayHost.StartAsync(TestConfig.Create(upstream.BaseAddress));

        var (shortFirst, shortSecond) = await TwoRequestsApartAsync(shortIdle, connections);
        var (defaultFirst, defaultSecond) = await TwoRequestsApartAsync(defaults, connections);

        Assert.NotEqual(shortFirst, shortSecond);
        Assert.Equal(defaultFirst, defaultSecond);
    }

    private static async Task<(string First, string Second)> TwoRequestsApartAsync(GatewayHost gateway, ConcurrentQueue<string> connections)
    {
        connections.Clear();
        for (var i = 0; i < 2; i++)
        {
            if (i > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(2.5));
            }

            using var response = await gateway.Proxy.SendAsync(GatewayHost.Request(HttpMethod.Get, "/customers/c-1", "marketing", "s-1"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var ids = connections.ToArray();
        Assert.Equal(2, ids.Length);
        return (ids[0], ids[1]);
    }
}
