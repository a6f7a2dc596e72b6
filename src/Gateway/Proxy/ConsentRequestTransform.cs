using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace ConsentGateway.Proxy;

/// <summary>
/// The request side's statement to the upstream, as a YARP request transform on every route: once YARP
/// has copied the caller's headers onto the outgoing message, any X-Consent-* header among them is
/// dropped (nobody but the gateway may make that statement) and the gateway's own are added, from the
/// <see cref="ConsentExchange"/> that <see cref="ConsentEnforcementMiddleware"/> stored for this request.
/// </summary>
internal sealed class ConsentRequestTransform : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.AddRequestTransform(static transform =>
    {
        ConsentHeaders.RemoveForged(transform.ProxyRequest);
        if (transform.HttpContext.Features.Get<ConsentExchange>() is { } exchange)
        {
            ConsentHeaders.Describe(transform.ProxyRequest.Headers, exchange, exchange.RequestWithheldMask);
        }

        return default;
    });
}
