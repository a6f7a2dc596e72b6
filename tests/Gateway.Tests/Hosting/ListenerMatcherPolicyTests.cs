using ConsentGateway.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ConsentGateway.Tests.Hosting;

/// <summary>
/// The routing branch that keeps each endpoint on its own listener, unit by unit; the end-to-end
/// isolation (admin paths 404 on the proxy port, proxied paths 404 on the admin port even with a
/// forged Host) is in <see cref="GatewayHostingTests"/>.
/// </summary>
public sealed class ListenerMatcherPolicyTests
{
    private const int ProxyPort = 5801;
    private const int AdminPort = 5802;

    private static readonly Endpoint ProxyEndpoint = Endpoint("proxy", new ListenerMetadata(Listener.Proxy));
    private static readonly Endpoint AdminEndpoint = Endpoint("admin", new ListenerMetadata(Listener.Admin));
    private static readonly Endpoint BareEndpoint = Endpoint("bare");

    [Fact]
    public void Each_endpoint_is_on_its_listeners_edge_and_one_without_metadata_on_none()
    {
        INodeBuilderPolicy policy = new ListenerMatcherPolicy(Configured());

        var edges = policy.GetEdges([BareEndpoint, ProxyEndpoint, AdminEndpoint]);

        Assert.Equal(2, edges.Count);
        var proxy = Assert.Single(edges, e => (Listener)e.State == Listener.Proxy);
        var admin = Assert.Single(edges, e => (Listener)e.State == Listener.Admin);
        Assert.Equal([ProxyEndpoint], proxy.Endpoints);
        Assert.Equal([AdminEndpoint], admin.Endpoints);
    }

    [Fact]
    public void Endpoints_without_metadata_give_no_edge_at_all()
    {
        INodeBuilderPolicy policy = new ListenerMatcherPolicy(Configured());

        Assert.Empty(policy.GetEdges([BareEndpoint]));
    }

    [Theory]
    [InlineData(ProxyPort, 3)]
    [InlineData(AdminPort, 7)]
    [InlineData(6000, -1)]
    public void The_jump_table_branches_on_the_local_port(int localPort, int destination)
    {
        INodeBuilderPolicy policy = new ListenerMatcherPolicy(Configured());

        var table = policy.BuildJumpTable(-1, [new PolicyJumpTableEdge(Listener.Proxy, 3), new PolicyJumpTableEdge(Listener.Admin, 7)]);

        Assert.Equal(destination, table.GetDestination(On(localPort)));
    }

    [Fact]
    public void A_listener_without_an_edge_exits_rather_than_reaching_the_other_listeners_endpoints()
    {
        INodeBuilderPolicy policy = new ListenerMatcherPolicy(Configured());

        var table = policy.BuildJumpTable(-1, [new PolicyJumpTableEdge(Listener.Proxy, 3)]);

        Assert.Equal(-1, table.GetDestination(On(AdminPort)));
        Assert.Equal(3, table.GetDestination(On(ProxyPort)));
    }

    [Fact]
    public void Node_building_is_used_unless_an_endpoint_is_dynamic()
    {
        var policy = new ListenerMatcherPolicy(Configured());

        Assert.True(((INodeBuilderPolicy)policy).AppliesToEndpoints([ProxyEndpoint, BareEndpoint]));
        Assert.False(((IEndpointSelectorPolicy)policy).AppliesToEndpoints([ProxyEndpoint, BareEndpoint]));
    }

    [Fact]
    public async Task Candidate_filtering_keeps_only_the_connections_listener()
    {
        IEndpointSelectorPolicy policy = new ListenerMatcherPolicy(Configured());
        var candidates = new CandidateSet([ProxyEndpoint, AdminEndpoint, BareEndpoint], new RouteValueDictionary[3], [0, 0, 0]);

        await policy.ApplyAsync(On(AdminPort), candidates);

        Assert.False(candidates.IsValidCandidate(0));
        Assert.True(candidates.IsValidCandidate(1));
        Assert.False(candidates.IsValidCandidate(2));
    }

    private static Listeners Configured()
    {
        var listeners = new Listeners();
        listeners.Configure(new KestrelServerOptions(), new GatewayOptions
        {
            ProxyUrl = $"http://127.0.0.1:{ProxyPort}",
            AdminUrl = $"http://127.0.0.1:{AdminPort}",
        });
        return listeners;
    }

    private static HttpContext On(int localPort)
    {
        var context = new DefaultHttpContext();
        context.Connection.LocalPort = localPort;
        return context;
    }

    private static Endpoint Endpoint(string name, params object[] metadata) =>
        new(static _ => Task.CompletedTask, new EndpointMetadataCollection(metadata), name);
}
