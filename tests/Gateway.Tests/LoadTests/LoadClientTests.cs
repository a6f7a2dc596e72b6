using System.Collections.Concurrent;
using ConsentGateway.LoadTests.Engine;
using ConsentGateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConsentGateway.Tests.LoadTests;

/// <summary>
/// The load generator's client opens its connections before it measures and keeps them, against a
/// real Kestrel server that tells which connection carried each request.
/// </summary>
public sealed class LoadClientTests
{
    [Fact]
    public async Task Opening_reaches_the_limit_against_a_server_that_answers_at_once_and_later_requests_open_none()
    {
        await using var server = await RecordingUpstream.StartAsync();
        var connections = new ConcurrentDictionary<string, int>();
        server.Respond(async (context, _) =>
        {
            connections.AddOrUpdate(context.Connection.Id, 1, (_, n) => n + 1);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{}");
        });
        using var load = new LoadClient(16, TimeSpan.FromSeconds(10));
        var index = 0L;

        var opened = await load.OpenConnectionsAsync(_ => new HttpRequestMessage(HttpMethod.Get, server.BaseAddress + "x"), () => index++, CancellationToken.None);

        Assert.Equal(16, opened);
        Assert.Equal(16, load.ConnectionsOpened);
        Assert.Equal(16, connections.Count);

        // Bursts up to the limit find a connection open and idle: none is opened, none the server has not seen.
        for (var burst = 0; burst < 10; burst++)
        {
            await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                using var response = await load.Client.GetAsync(new Uri(server.BaseAddress + "y"));
                response.EnsureSuccessStatusCode();
            }));
        }

        Assert.Equal(16, load.ConnectionsOpened);
        Assert.Equal(16, connections.Count);
    }

    [Fact]
    public async Task Opening_survives_a_target_that_refuses_and_counts_only_connections_made()
    {
        using var load = new LoadClient(4, TimeSpan.FromSeconds(5));
        var index = 0L;

        // Nothing listens on port 1 of loopback: every attempt is refused, so no connection is counted.
        var opened = await load.OpenConnectionsAsync(_ => new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1:1/"), () => index++, CancellationToken.None);

        Assert.Equal(0, opened);
        Assert.Equal(20, index); // five waves of four
    }

    [Fact]
    public async Task The_sample_upstream_keeps_idle_connections_longer_than_the_proxies_pool_them()
    {
        await using var app = SampleApi.SampleApiApp.Build(["--urls", "http://127.0.0.1:0"]);

        var kestrel = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;

        Assert.Equal(TimeSpan.FromMinutes(15), kestrel.Limits.KeepAliveTimeout);
        Assert.True(kestrel.Limits.KeepAliveTimeout > new ConsentGateway.Hosting.GatewayOptions { HashKey = TestConfig.HashKey }.UpstreamIdleTimeout);
    }
}
