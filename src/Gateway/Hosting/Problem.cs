using System.Text.Json;

namespace ConsentGateway.Hosting;

/// <summary>
/// Every error the gateway itself returns, with a stable RFC 9457 <c>type</c>. Details are fixed
/// text chosen here: no problem ever echoes a request value (subject ids and personal data stay out).
/// </summary>
internal sealed class Problem
{
    private const string TypePrefix = "urn:consent-gateway:problem:";

    public static readonly Problem ApiKeyMissing = new(401, "api-key-missing", "API key required", "Send the caller's key in X-Api-Key.");
    public static readonly Problem ApiKeyInvalid = new(401, "api-key-invalid", "API key not recognised", "The X-Api-Key value matches no registered caller.");
    public static readonly Problem ApiKeyAmbiguous = new(400, "api-key-ambiguous", "API key ambiguous", "X-Api-Key must be sent exactly once, with one value.");
    public static readonly Problem PurposeMissing = new(400, "purpose-missing", "Purpose required", "Declare the processing purpose in X-Purpose.");
    public static readonly Problem PurposeAmbiguous = new(400, "purpose-ambiguous", "Purpose ambiguous", "The purpose must be sent exactly once, with one value.");
    public static readonly Problem PurposeUnknown = new(403, "purpose-unknown", "Purpose not declared", "The purpose is not declared in the gateway policy.");
    public static readonly Problem PurposeNotAllowed = new(403, "purpose-not-allowed", "Purpose not allowed for caller", "This caller is not registered for the declared purpose.");
    public static readonly Problem SubjectMissing = new(400, "subject-missing", "Data subject required", "This route needs the data subject's id and none was found.");
    public static readonly Problem SubjectAmbiguous = new(400, "subject-ambiguous", "Data subject ambiguous", "The data subject must be given exactly once, with one value.");
    public static readonly Problem SubjectInvalid = new(400, "subject-invalid", "Data subject id invalid", "The data subject id must be 1 to 256 characters of text.");
    public static readonly Problem TokenInvalid = new(401, "token-invalid", "Bearer token invalid", "A valid bearer token is required to identify the data subject.");
    public static readonly Problem BodyTooLarge = new(413, "body-too-large", "Request body too large", "The request body exceeds the gateway's limit.");
    public static readonly Problem UnsupportedMediaType = new(415, "unsupported-media-type", "Body cannot be inspected", "This route filters JSON bodies: send application/json (or text/json, application/*+json) in UTF-8.");
    public static readonly Problem UnsupportedEncoding = new(415, "unsupported-encoding", "Content-Encoding not supported", "Request bodies may be identity, gzip, deflate or br encoded.");
    public static readonly Problem JsonMalformed = new(400, "json-malformed", "Malformed JSON", "The request body is not valid JSON.");
    public static readonly Problem JsonTooDeep = new(400, "json-too-deep", "JSON nested too deeply", "The request body exceeds the gateway's nesting depth limit.");
    public static readonly Problem JsonInvalidUtf8 = new(400, "json-invalid-utf8", "Invalid UTF-8", "The request body is not valid UTF-8.");
    public static readonly Problem Blocked = new(403, "consent-blocked", "Blocked for lack of consent", "The exchange carries personal data the data subject has not allowed for this purpose.");
    public static readonly Problem UpstreamBodyInvalid = new(502, "upstream-body-invalid", "Upstream response could not be filtered", "The upstream returned a body the gateway could not parse; nothing was passed on.");
    public static readonly Problem UpstreamBodyUninspectable = new(502, "upstream-body-uninspectable", "Upstream response cannot be inspected", "The upstream returned a body of a type or encoding the gateway cannot filter; nothing was passed on.");
    public static readonly Problem UpstreamBodyTooLarge = new(502, "upstream-body-too-large", "Upstream response too large", "The upstream response exceeds the gateway's limit; nothing was passed on.");
    public static readonly Problem UpstreamUnavailable = new(502, "upstream-unavailable", "Upstream unavailable", "The gateway could not get a response from the upstream.");
    public static readonly Problem UpstreamTimeout = new(504, "upstream-timeout", "Upstream timed out", "The upstream did not answer in time.");
    public static readonly Problem RoutePolicyMissing = new(500, "route-policy-missing", "Route has no consent policy", "The route has no consent policy; the gateway refuses to forward it.");
    public static readonly Problem NotFound = new(404, "not-found", "Not found", "No route matches this request on this listener.");
    public static readonly Problem AdminUnauthorized = new(401, "admin-unauthorized", "Admin credentials required", "Send an admin key in X-Admin-Key or a valid bearer token.");
    public static readonly Problem StoreUnavailable = new(503, "store-unavailable", "Consent store unavailable", "The consent store did not confirm the operation, so it may not have been applied. Retry it.");
    public static readonly Problem InternalError = new(500, "internal-error", "Internal error", "The gateway failed to process the request; nothing was forwarded.");

    public Problem(int status, string slug, string title, string detail)
    {
        Status = status;
        Slug = slug;
        Title = title;
        Detail = detail;
        Type = TypePrefix + slug;
    }

    public int Status { get; }

    public string Slug { get; }

    public string Type { get; }

    public string Title { get; }

    public string Detail { get; }

    /// <summary>Writes the problem. <paramref name="extensions"/> are configuration-derived values only (e.g. category names).</summary>
    /// <param name="headers">Extra response headers; applied before the body starts the response.</param>
    public Task WriteAsync(HttpContext context, string? detail = null, string? extensionName = null, IReadOnlyList<string>? extensions = null, IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        response.Clear();
        response.StatusCode = Status;
        response.ContentType = "application/problem+json";
        response.Headers.CacheControl = "no-store";
        if (headers is not null)
        {
            foreach (var (name, value) in headers)
            {
                response.Headers[name] = value;
            }
        }

        using var buffer = new PooledBufferWriter(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", Type);
            writer.WriteString("title", Title);
            writer.WriteNumber("status", Status);
            writer.WriteString("detail", detail ?? Detail);
            if (extensionName is not null && extensions is not null)
            {
                writer.WriteStartArray(extensionName);
                foreach (var e in extensions)
                {
                    writer.WriteStringValue(e);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }
}
