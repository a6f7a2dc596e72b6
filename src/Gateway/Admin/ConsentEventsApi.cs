using System.Text.Json;
using System.Text.Json.Serialization;
using ConsentGateway.Consent;
using ConsentGateway.Observability;
using ConsentGateway.Policy;
using Microsoft.Extensions.Options;

namespace ConsentGateway.Admin;

/// <summary>
/// <c>POST /v1/consent-events</c>: a batch of consent events from a consent platform (SPEC §6). The
/// whole batch is validated before anything is written (400 naming <c>events[i].field</c>, 422 for
/// an undeclared purpose, 413 over <c>Consent:MaxEventsPerBatch</c>); then each event is applied in
/// order by the store, idempotently by event id and never letting an older event overwrite a newer
/// decision. Replaying a batch (e.g. after a 503) is safe: what was applied reports as duplicate.
/// </summary>
internal static class ConsentEventsApi
{
    public const int MaxEventIdLength = 200;
    public const int MaxSourceLength = 128;
    public const int MaxPurposeLength = 128;

    /// <summary>How far ahead of this gateway's clock an occurredAt may be (clock skew between systems).</summary>
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(5);

    private static readonly JsonSerializerOptions ResponseJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void Map(RouteGroupBuilder events) => events.MapPost(string.Empty, HandleAsync);

    private static async Task<IResult> HandleAsync(HttpContext http, IConsentEventStore store, PolicyProvider policy, IOptions<ConsentOptions> options, TimeProvider time, GatewayMetrics metrics, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(ConsentEventsApi).FullName!);
        var instruments = metrics.ConsentEvents;
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { MaxDepth = 16 }, http.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return Reject(instruments, logger, 400, "invalid-body", "body", "The body must be a JSON array of events, or an object {\"events\": [...]}.");
        }

        ConsentEvent[] batch;
        using (document)
        {
            var root = document.RootElement;
            JsonElement array;
            if (root.ValueKind == JsonValueKind.Array)
            {
                array = root;
            }
            else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("events"u8, out var inner) && inner.ValueKind == JsonValueKind.Array)
            {
                array = inner;
            }
            else
            {
                return Reject(instruments, logger, 400, "invalid-field", "events", "The body must be a JSON array of events, or an object {\"events\": [...]}.");
            }

            var max = options.Value.MaxEventsPerBatch;
            if (array.GetArrayLength() > max)
            {
                return Reject(instruments, logger, 413, "batch-too-large", "events", $"A batch holds at most {max} events; split it.");
            }

            batch = new ConsentEvent[array.GetArrayLength()];
            var purposes = policy.Current.Purposes;
            var now = time.GetUtcNow();
            string? unknownPurpose = null;
            var index = 0;
            foreach (var item in array.EnumerateArray())
            {
                var error = TryParse(item, now, out var parsed);
                if (error is { } e)
                {
                    return Reject(instruments, logger, 400, "invalid-field", $"events[{index}]{(e.Field.Length == 0 ? string.Empty : "." + e.Field)}", e.Detail);
                }

                if (!parsed.IsGpc && !purposes.ContainsKey(parsed.Purpose!))
                {
                    unknownPurpose ??= $"events[{index}].purpose";
                }

                batch[index++] = parsed;
            }

            if (unknownPurpose is not null)
            {
                return Reject(instruments, logger, 422, "purpose-unknown", unknownPurpose, "The purpose is not declared in the gateway policy; nothing was written.");
            }
        }

        var results = new EventResult[batch.Length];
        int applied = 0, duplicate = 0, superseded = 0;
        for (var i = 0; i < batch.Length; i++)
        {
            var e = batch[i];
            ConsentEventResult r;
            try
            {
                r = await store.ApplyEventAsync(e, http.RequestAborted).ConfigureAwait(false);
            }
            catch (ConsentStoreException)
            {
                AdminLog.EventsIncomplete(logger, i, batch.Length);
                instruments.Incomplete(applied, duplicate, superseded, batch.Length - i - 1);
                throw;
            }

            var purpose = e.Purpose ?? ConsentReceipts.GpcPurpose;
            results[i] = r.Outcome switch
            {
                ConsentEventOutcome.Applied => new EventResult(i, e.EventId, "applied", e.Subject, purpose, e.StatusName, r.EffectiveAt, e.OccurredAt, r.Version),
                ConsentEventOutcome.Superseded => new EventResult(i, e.EventId, "superseded", e.Subject, purpose, null, null, e.OccurredAt, r.Version),
                _ => new EventResult(i, e.EventId, "duplicate", null, null, null, null, null, null),
            };
            switch (r.Outcome)
            {
                case ConsentEventOutcome.Applied: applied++; break;
                case ConsentEventOutcome.Superseded: superseded++; break;
                default: duplicate++; break;
            }
        }

        AdminLog.EventsIngested(logger, applied, duplicate, superseded);
        instruments.Accepted(applied, duplicate, superseded);
        return Results.Json(new BatchResult(applied, duplicate, superseded, results), ResponseJson);
    }

    private static IResult Reject(ConsentEventInstruments instruments, ILogger logger, int status, string slug, string field, string detail)
    {
        instruments.Rejected();
        AdminLog.EventsRejected(logger, status, field);
        return ConsentApi.Invalid(status, slug, field, detail);
    }

    /// <summary>One event; on error, the field (relative to the event, empty for the event itself) and a fixed detail text.</summary>
    private static (string Field, string Detail)? TryParse(JsonElement item, DateTimeOffset now, out ConsentEvent parsed)
    {
        parsed = null!;
        if (item.ValueKind != JsonValueKind.Object)
        {
            return (string.Empty, "Each event must be a JSON object.");
        }

        string? eventId = null, type = null, subject = null, purpose = null, status = null, source = null;
        DateTimeOffset? expiresAt = null, occurredAt = null;
        bool? gpc = null;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in item.EnumerateObject())
        {
            var name = Known(property.Name);
            if (name is null)
            {
                continue; // unknown members are ignored, as in the Redis layout
            }

            if (!seen.Add(name))
            {
                return (name, $"{name} appears more than once.");
            }

            var value = property.Value;
            switch (name)
            {
                case "eventId":
                    if (!TryString(value, 1, MaxEventIdLength, out eventId))
                    {
                        return (name, $"eventId must be a string of 1 to {MaxEventIdLength} characters.");
                    }

                    break;
                case "type":
                    if (!TryString(value, 1, 16, out type) || type is not ("consent" or "gpc"))
                    {
                        return (name, "type must be \"consent\" (the default) or \"gpc\".");
                    }

                    break;
                case "subject":
                    if (!TryString(value, 1, PolicyCompiler.MaxSubjectLength, out subject))
                    {
                        return (name, $"subject must be a string of 1 to {PolicyCompiler.MaxSubjectLength} characters.");
                    }

                    break;
                case "purpose":
                    if (value.ValueKind != JsonValueKind.Null && !TryString(value, 1, MaxPurposeLength, out purpose))
                    {
                        return (name, $"purpose must be a string of 1 to {MaxPurposeLength} characters.");
                    }

                    break;
                case "status":
                    if (!TryString(value, 1, 16, out status) || status is not ("granted" or "denied" or "expired"))
                    {
                        return (name, "status must be one of granted, denied, expired.");
                    }

                    break;
                case "expiresAt":
                    if (value.ValueKind != JsonValueKind.Null)
                    {
                        if (!TryTime(value, out var e))
                        {
                            return (name, "expiresAt must be null or an ISO 8601 time with an offset (e.g. 2027-01-01T00:00:00Z).");
                        }

                        expiresAt = e;
                    }

                    break;
                case "occurredAt":
                    if (!TryTime(value, out var o))
                    {
                        return (name, "occurredAt is required: an ISO 8601 time with an offset (e.g. 2026-05-01T10:00:00Z).");
                    }

                    occurredAt = o;
                    break;
                case "gpc":
                    if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        return (name, "gpc must be true or false.");
                    }

                    gpc = value.GetBoolean();
                    break;
                case "source":
                    if (value.ValueKind != JsonValueKind.Null && !TryString(value, 0, MaxSourceLength, out source))
                    {
                        return (name, $"source must be null or a string of at most {MaxSourceLength} characters.");
                    }

                    break;
            }
        }

        if (eventId is null)
        {
            return ("eventId", $"eventId is required: a string of 1 to {MaxEventIdLength} characters.");
        }

        if (subject is null)
        {
            return ("subject", $"subject is required: a string of 1 to {PolicyCompiler.MaxSubjectLength} characters.");
        }

        if (occurredAt is not { } occurred)
        {
            return ("occurredAt", "occurredAt is required: an ISO 8601 time with an offset (e.g. 2026-05-01T10:00:00Z).");
        }

        if (occurred > now + MaxFutureSkew)
        {
            // A far-future time would win over every later event for that purpose.
            return ("occurredAt", "occurredAt must not be in the future (more than 5 minutes ahead of the gateway's clock).");
        }

        if (type == "gpc")
        {
            if (gpc is not { } g)
            {
                return ("gpc", "gpc is required for a gpc event: true or false.");
            }

            parsed = new ConsentEvent(eventId, subject, null, ConsentStatus.Denied, false, null, g, occurred, source);
            return null;
        }

        if (purpose is null)
        {
            return ("purpose", $"purpose is required: a string of 1 to {MaxPurposeLength} characters.");
        }

        if (status is null)
        {
            return ("status", "status is required: one of granted, denied, expired.");
        }

        var consentStatus = status == "denied" ? ConsentStatus.Denied : ConsentStatus.Granted;
        parsed = new ConsentEvent(eventId, subject, purpose, consentStatus, status == "expired", expiresAt, false, occurred, source);
        return null;
    }

    private static readonly string[] KnownNames = ["eventId", "type", "subject", "purpose", "status", "expiresAt", "occurredAt", "gpc", "source"];

    /// <summary>Member names match case-insensitively (as the rest of the consent API does); returns the canonical name.</summary>
    private static string? Known(string name)
    {
        foreach (var known in KnownNames)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return null;
    }

    private static bool TryString(JsonElement value, int min, int max, out string? text)
    {
        text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        return text is not null && text.Length >= min && text.Length <= max;
    }

    /// <summary>An ISO 8601 time with an explicit offset ("Z" or ±hh:mm): a time without one would depend on this server's zone.</summary>
    private static bool TryTime(JsonElement value, out DateTimeOffset time)
    {
        time = default;
        if (value.ValueKind != JsonValueKind.String || !value.TryGetDateTimeOffset(out time))
        {
            return false;
        }

        var text = value.GetString()!;
        return text[^1] is 'Z' or 'z' || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':');
    }

    private sealed record EventResult(
        int Index,
        string EventId,
        string Outcome,
        string? Subject,
        string? Purpose,
        string? Status,
        DateTimeOffset? EffectiveAt,
        DateTimeOffset? OccurredAt,
        long? Version);

    private sealed record BatchResult(int Applied, int Duplicate, int Superseded, EventResult[] Results);
}
