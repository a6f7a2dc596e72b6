using System.Net;
using ConsentGateway.LoadTests.Engine;
using ConsentGateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
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
        await using var server = await CountingServer.StartAsync();
        using var load = new LoadClient(16, TimeSpan.FromSeconds(10));
        var index = 0L;

        var opened = await load.OpenConnectionsAsync(_ => new HttpRequestMessage(HttpMethod.Get, server.BaseAddress + "x"), () => index++, CancellationToken.None);

        // A connection the handler opened while another freed up carries no request yet, so the
        // server's side is counted where Kestrel accepts connections, not from requests.
        Assert.Equal(16, opened);
        Assert.Equal(16, load.ConnectionsOpened);
        Assert.Equal(16, await server.AcceptedAsync(atLeast: 16));

        // Bursts up to the limit find a connection open and idle: none is opened.
        for (var burst = 0; burst < 10; burst++)
        {
            await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                using var response = await load.Client.GetAsync(new Uri(server.BaseAddress + "y"));
                response.EnsureSuccessStatusCode();
            }));
        }

        Assert.Equal(16, load.ConnectionsOpened);
        Assert.Equal(16, server.Accepted);
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

    /// <summary>A real Kestrel server that answers at once and counts the connections it accepts.</summary>
    private sealed class CountingServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _accepted;

        private CountingServer(WebApplication app) => _app = app;

        public string BaseAddress { get; private set; } = string.Empty;

        public int Accepted => Volatile.Read(ref _accepted);

        public static async Task<CountingServer> StartAsync()
        {
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            CountingServer? server = null;
            builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.Use(next => connection =>
            {
                Interlocked.Increment(ref server!._accepted);
                return next(connection);
            })));
            var app = builder.Build();
            server = new CountingServer(app);
            app.Run(context =>
            {
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync("{}");
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            server.BaseAddress = address.TrimEnd('/') + "/";
            return server;
        }

        /// <summary>
        /// The accepted count once it reaches <paramref name="atLeast"/>, or what it is after 10 s: a
        /// client's connect completes at the handshake, a moment before Kestrel dispatches the connection.
        /// </summary>
        public async Task<int> AcceptedAsync(int atLeast)
        {
            for (var i = 0; i < 200 && Accepted < atLeast; i++)
            {
                await Task.Delay(50);
            }

            return Accepted;
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }
}
