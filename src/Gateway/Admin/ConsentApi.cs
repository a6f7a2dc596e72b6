using System.Text.Json;
using ConsentGateway.Consent;
using ConsentGateway.Hosting;
using ConsentGateway.Policy;

namespace ConsentGateway.Admin;

/// <summary>
/// The consent API on the admin listener (SPEC §6). Writes go to the store, which bumps the
/// subject's version and announces the change, so every instance's L1 drops the subject.
/// </summary>
internal static class ConsentApi
{
    public static void Map(RouteGroupBuilder admin)
    {
        var api = admin.MapGroup("/v1/subjects/{subject}").AddEndpointFilter(AuthorizeAdmin);
        ConsentEventsApi.Map(admin.MapGroup("/v1/consent-events").AddEndpointFilter(AuthorizeAdmin));

        api.MapGet("/consents", static async (string subject, IConsentStore store, HttpContext http) =>
        {
            var read = await store.ReadAsync(subject, http.RequestAborted).ConfigureAwait(false);
            if (!read.Succeeded)
            {
                throw new ConsentStoreException();
            }

            var consent = read.Consent ?? SubjectConsent.Empty;
            return Results.Json(new
            {
                subject,
                version = consent.Version,
                gpc = consent.Gpc,
                gpcOccurredAt = consent.GpcOccurredAt,
                purposes = consent.Purposes.Select(p => new { purpose = p.Purpose, status = Status(p.Status), expiresAt = p.ExpiresAt, updatedAt = p.UpdatedAt, occurredAt = p.OccurredAt, source = p.Source }),
            }, AdminEndpoints.Json);
        });

        api.MapPut("/consents/{purpose}", static async (string subject, string purpose, HttpContext http, IConsentStore store, PolicyProvider policy, TimeProvider time) =>
        {
            var (body, error) = await ReadBody<PurposeWrite>(http).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }

            if (ValidateSubject(subject) is { } bad)
            {
                return bad;
            }

            if (!policy.Current.Purposes.ContainsKey(purpose))
            {
                return Invalid(422, "purpose-unknown", "purpose", "The purpose is not declared in the gateway policy; nothing was written.");
            }

            ConsentStatus status;
            var expiresAt = body!.ExpiresAt;
            switch (body.Status)
            {
                case "granted": status = ConsentStatus.Granted; break;
                case "denied": status = ConsentStatus.Denied; break;
                case "expired": status = ConsentStatus.Granted; expiresAt = time.GetUtcNow(); break;
                default: return Invalid(400, "invalid-field", "status", "status must be one of granted, denied, expired.");
            }

            if (body.Source is { Length: > 128 })
            {
                return Invalid(400, "invalid-field", "source", "source must be at most 128 characters.");
            }

            var receipt = await store.SetPurposeAsync(subject, purpose, status, expiresAt, body.Source, http.RequestAborted).ConfigureAwait(false);
            return Results.Json(receipt, AdminEndpoints.Json);
        });

        api.MapPut("/gpc", static async (string subject, HttpContext http, IConsentStore store) =>
        {
            var (body, error) = await ReadBody<GpcWrite>(http).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }

            if (ValidateSubject(subject) is { } bad)
            {
                return bad;
            }

            if (body!.Gpc is not { } gpc)
            {
                return Invalid(400, "invalid-field", "gpc", "gpc must be true or false.");
            }

            return Results.Json(await store.SetGpcAsync(subject, gpc, http.RequestAborted).ConfigureAwait(false), AdminEndpoints.Json);
        });

        api.MapDelete(string.Empty, static async (string subject, HttpContext http, IConsentStore store) =>
            ValidateSubject(subject) ?? Results.Json(await store.EraseAsync(subject, http.RequestAborted).ConfigureAwait(false), AdminEndpoints.Json));
    }

    /// <summary>Admin credentials first; a write the store does not confirm becomes 503 store-unavailable.</summary>
    internal static async ValueTask<object?> AuthorizeAdmin(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var auth = context.HttpContext.RequestServices.GetRequiredService<AdminAuthenticator>();
        if (!await auth.IsAuthorizedAsync(context.HttpContext).ConfigureAwait(false))
        {
            await Problem.AdminUnauthorized.WriteAsync(context.HttpContext).ConfigureAwait(false);
            return Results.Empty;
        }

        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (ConsentStoreException)
        {
            // The write was not confirmed: say so; the caller retries (writes are idempotent per purpose, events per id).
            await Problem.StoreUnavailable.WriteAsync(context.HttpContext).ConfigureAwait(false);
            return Results.Empty;
        }
    }

    private static string Status(ConsentStatus status) => status == ConsentStatus.Granted ? "granted" : "denied";

    private static IResult? ValidateSubject(string subject) =>
        subject.Length is 0 or > PolicyCompiler.MaxSubjectLength
            ? Invalid(400, "invalid-field", "subject", "subject must be 1 to 256 characters.")
            : null;

    private static async Task<(T? Body, IResult? Error)> ReadBody<T>(HttpContext http)
        where T : class
    {
        try
        {
            var body = await JsonSerializer.DeserializeAsync<T>(http.Request.Body, AdminEndpoints.Json, http.RequestAborted).ConfigureAwait(false);
            return body is null ? (null, Invalid(400, "invalid-body", "body", "A JSON object body is required.")) : (body, null);
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
            return (null, Invalid(400, "invalid-field", field, $"{field} has an invalid value or the body is not valid JSON."));
        }
    }

    internal static IResult Invalid(int status, string slug, string field, string detail) =>
        Results.Problem(statusCode: status, title: "Invalid consent write", detail: detail, type: "urn:consent-gateway:problem:" + slug,
            extensions: new Dictionary<string, object?> { ["field"] = field });

    private sealed record PurposeWrite(string? Status, DateTimeOffset? ExpiresAt, string? Source);

    private sealed record GpcWrite(bool? Gpc);
}
