using System.Net;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ConsentGateway.Hosting;

internal enum Listener : byte
{
    Proxy,
    Admin,
}

/// <summary>Endpoint metadata: the only listener an endpoint may be served on.</summary>
internal sealed record ListenerMetadata(Listener Listener);

/// <summary>
/// Two Kestrel listeners in one process. A request's listener is decided by the local port its
/// connection arrived on (a fact of the socket the client cannot forge, unlike the Host header),
/// and <see cref="ListenerMatcherPolicy"/> lets an endpoint match only on its own listener: the
/// proxy listener serves proxied routes only, the admin listener never proxies.
/// </summary>
internal sealed class Listeners
{
    public ListenOptions? Proxy { get; private set; }

    public ListenOptions? Admin { get; private set; }

    /// <summary>The bound proxy endpoint (Kestrel fills in the real port when configured as 0), once started.</summary>
    public IPEndPoint? ProxyEndPoint => Proxy?.IPEndPoint;

    public IPEndPoint? AdminEndPoint => Admin?.IPEndPoint;

    public static bool TryParseEndpoint(string? url, out IPEndPoint endpoint)
    {
        endpoint = new IPEndPoint(IPAddress.Loopback, 0);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            return false;
        }

        var address = uri.Host switch
        {
            "localhost" => IPAddress.Loopback,
            "0.0.0.0" or "*" or "+" => IPAddress.Any,
            "[::]" => IPAddress.IPv6Any,
            _ => IPAddress.TryParse(uri.Host, out var parsed) ? parsed : null,
        };
        if (address is null)
        {
            return false;
        }

        endpoint = new IPEndPoint(address, uri.Port);
        return true;
    }

    public void Configure(KestrelServerOptions kestrel, GatewayOptions options)
    {
        // GatewayOptionsValidator has already rejected unparsable URLs.
        _ = TryParseEndpoint(options.ProxyUrl, out var proxy);
        _ = TryParseEndpoint(options.AdminUrl, out var admin);
        kestrel.Limits.KeepAliveTimeout = options.ClientKeepAliveTimeout;
        kestrel.Listen(proxy, listen => Proxy = listen);
        kestrel.Listen(admin, listen => Admin = listen);
    }

    public Listener? Of(HttpContext context)
    {
        var port = context.Connection.LocalPort;
        return port == ProxyEndPoint?.Port ? Listener.Proxy
            : port == AdminEndPoint?.Port ? Listener.Admin
            : null;
    }
}

/// <summary>
/// Lets an endpoint match only on its own listener (see <see cref="Listeners"/>). As a node-building
/// policy it becomes a branch of the routing DFA, decided by one port comparison per request, so the
/// matcher stays on its synchronous path; candidate filtering is kept only for dynamic endpoints,
/// which the DFA cannot branch on ahead of time (as ASP.NET Core's own HTTP method policy does).
/// </summary>
internal sealed class ListenerMatcherPolicy(Listeners listeners) : MatcherPolicy, INodeBuilderPolicy, IEndpointSelectorPolicy
{
    // Run before YARP's own policies so a proxied route never even matches on the admin listener.
    public override int Order => -1000;

    bool INodeBuilderPolicy.AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => !ContainsDynamicEndpoints(endpoints);

    bool IEndpointSelectorPolicy.AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => ContainsDynamicEndpoints(endpoints);

    public IReadOnlyList<PolicyNodeEdge> GetEdges(IReadOnlyList<Endpoint> endpoints)
    {
        // Fail closed: an endpoint without listener metadata is on no edge, so it matches nowhere.
        List<Endpoint>? proxy = null;
        List<Endpoint>? admin = null;
        foreach (var endpoint in endpoints)
        {
            switch (endpoint.Metadata.GetMetadata<ListenerMetadata>()?.Listener)
            {
                case Listener.Proxy:
                    (proxy ??= []).Add(endpoint);
                    break;
                case Listener.Admin:
                    (admin ??= []).Add(endpoint);
                    break;
            }
        }

        var edges = new List<PolicyNodeEdge>(2);
        if (proxy is not null)
        {
            edges.Add(new PolicyNodeEdge(Listener.Proxy, proxy));
        }

        if (admin is not null)
        {
            edges.Add(new PolicyNodeEdge(Listener.Admin, admin));
        }

        return edges;
    }

    public PolicyJumpTable BuildJumpTable(int exitDestination, IReadOnlyList<PolicyJumpTableEdge> edges)
    {
        int proxy = exitDestination, admin = exitDestination;
        foreach (var edge in edges)
        {
            switch ((Listener)edge.State)
            {
                case Listener.Proxy:
                    proxy = edge.Destination;
                    break;
                case Listener.Admin:
                    admin = edge.Destination;
                    break;
            }
        }

        return new ListenerJumpTable(listeners, proxy, admin, exitDestination);
    }

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var listener = listeners.Of(httpContext);
        for (var i = 0; i < candidates.Count; i++)
        {
            // Fail closed: an endpoint without listener metadata, or a connection without a tag, matches nowhere.
            var metadata = candidates[i].Endpoint.Metadata.GetMetadata<ListenerMetadata>();
            if (metadata is null || listener is null || metadata.Listener != listener)
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>A connection on neither listener's port goes to the exit: no endpoint.</summary>
    private sealed class ListenerJumpTable(Listeners listeners, int proxy, int admin, int exit) : PolicyJumpTable
    {
        public override int GetDestination(HttpContext httpContext) => listeners.Of(httpContext) switch
        {
            Listener.Proxy => proxy,
            Listener.Admin => admin,
            _ => exit,
        };
    }
}
