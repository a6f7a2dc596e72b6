using System.Text.Json;
using ConsentGateway.Consent;
using ConsentGateway.Hosting;
using ConsentGateway.Policy;
using Prometheus;

namespace ConsentGateway.Admin;

/// <summary>The admin listener: health, readiness, metrics and the consent API.</summary>
internal static class AdminEndpoints
{
    public static void MapAdmin(this WebApplication app)
    {
        var admin = app.MapGroup(string.Empty).WithMetadata(new ListenerMetadata(Listener.Admin));
        admin.MapGet("/healthz", static () => Results.Json(new { status = "ok" }));
        admin.MapGet("/readyz", static (IConsentStoreHealth store, PolicyProvider policy) =>
        {
            var ready = store.IsAvailable && store.IsSubscribed;
            var body = new
            {
                status = ready ? "ready" : "degraded",
                store = new { kind = store.Kind, available = store.IsAvailable, subscribed = store.IsSubscribed },
                policy = new { routes = policy.Current.Routes.Count, purposes = policy.Current.Purposes.Count },
            };
            return Results.Json(body, statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        admin.MapMetrics("/metrics", app.Services.GetRequiredService<CollectorRegistry>());
        ConsentApi.Map(admin);
    }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}
