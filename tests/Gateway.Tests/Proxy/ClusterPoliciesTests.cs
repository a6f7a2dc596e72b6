using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ConsentGateway.Tests.Infrastructure;
using static ConsentGateway.Tests.Infrastructure.GatewayHost;

namespace ConsentGateway.Tests.Proxy;

/// <summary>
/// A cluster's own YARP settings still apply behind enforcement: load-balancing policy, session
/// affinity and passive health checks (steps a custom proxy pipeline has to add itself). Each test
/// runs a real gateway in front of two recording upstreams.
/// </summary>
public sealed class ClusterPoliciesTests
{
    [Fact]
    public async Task The_clusters_load_balancing_policy_chooses_the_destination()
    {
        await using var first = await RecordingUpstream.StartAsync();
        await using var second = await RecordingUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(first.BaseAddress, second.BaseAddress, cluster =>
            cluster["LoadBalancingPolicy"] = "FirstAlphabetical"));

        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Proxy.SendAsync(Request(HttpMethod.Get, "/customers/1", "fulfilment", "s1"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(10, first.Received.Count);
        Assert.Empty(second.Received);
    }

    [Fact]
    public async Task Session_affinity_keeps_a_client_on_the_destination_it_was_given()
    {
        await using var first = await RecordingUpstream.StartAsync();
        await using var second = await RecordingUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(first.BaseAddress, second.BaseAddress, cluster =>
        {
            cluster["LoadBalancingPolicy"] = "RoundRobin";
            cluster["SessionAffinity"] = new JsonObject { ["Enabled"] = true, ["Policy"] = "Cookie", ["AffinityKeyName"] = ".Test.Affinity" };
        }));

        string cookie;
        using (var response = await gateway.Proxy.SendAsync(Request(HttpMethod.Get, "/customers/1", "fulfilment", "s1")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".Test.Affinity=", StringComparison.Ordinal));
            cookie = setCookie.Split(';')[0];
        }

        var chosen = first.Received.Count == 1 ? first : second;
        for (var i = 0; i < 6; i++)
        {
            using var request = Request(HttpMethod.Get, "/customers/1", "fulfilment", "s1");
            request.Headers.Add("Cookie", cookie);
            using var response = await gateway.Proxy.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(7, chosen.Received.Count);
        Assert.Equal(7, first.Received.Count + second.Received.Count);
    }

    [Fact]
    public async Task Passive_health_checks_take_a_failing_destination_out_of_rotation()
    {
        await using var healthy = await RecordingUpstream.StartAsync();
        // First alphabetically, so it is chosen until passive health checks mark it down.
        var dead = $"http://127.0.0.1:{UnusedPort()}/";
        await using var gateway = await StartAsync(Config(dead, healthy.BaseAddress, cluster =>
        {
            cluster["LoadBalancingPolicy"] = "FirstAlphabetical";
            cluster["HealthCheck"] = new JsonObject
            {
                ["Passive"] = new JsonObject { ["Enabled"] = true, ["Policy"] = "TransportFailureRate", ["ReactivationPeriod"] = "00:05:00" },
            };
        }));

        // The default policy needs a minimum number of requests in its window before it judges a rate.
        var failures = 0;
        while (true)
        {
            using var response = await gateway.Proxy.SendAsync(Request(HttpMethod.Get, "/customers/1", "fulfilment", "s1"));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.True(++failures < 30, "the failing destination was never taken out of rotation");
        }

        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Proxy.SendAsync(Request(HttpMethod.Get, "/customers/1", "fulfilment", "s1"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(11, healthy.Received.Count);
        Assert.True(failures >= 1);
    }

    private static JsonObject Config(string firstAddress, string secondAddress, Action<JsonObject> configure)
    {
        var config = TestConfig.Create(firstAddress);
        var cluster = config["ReverseProxy"]!["Clusters"]!["upstream"]!.AsObject();
        cluster["Destinations"] = new JsonObject
        {
            ["d1"] = new JsonObject { ["Address"] = firstAddress },
            ["d2"] = new JsonObject { ["Address"] = secondAddress },
        };
        configure(cluster);
        return config;
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
