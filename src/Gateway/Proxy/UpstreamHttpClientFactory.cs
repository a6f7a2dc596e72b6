using ConsentGateway.Hosting;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace ConsentGateway.Proxy;

/// <summary>
/// YARP's client factory with the gateway's idle timeout for pooled upstream connections
/// (<see cref="GatewayOptions.UpstreamIdleTimeout"/>); everything else as YARP sets it.
/// </summary>
internal sealed class UpstreamHttpClientFactory(IOptions<GatewayOptions> options, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.PooledConnectionIdleTimeout = options.Value.UpstreamIdleTimeout;
    }
}
