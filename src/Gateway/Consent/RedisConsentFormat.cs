using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ConsentGateway.Consent;

/// <summary>
/// The Redis layout of the README ("Redis layout"): reading a subject hash written by anyone, and the JSON of one
/// purpose. Parsing fails closed field by field: what cannot be understood restricts, never permits.
/// </summary>
internal static class RedisConsentFormat
{
    public const string VersionField = "v";
    public const string GpcField = "gpc";
    public const string PurposeFieldPrefix = "p:";

    /// <summary>Hash field holding the <c>occurredAt</c> of the event that last set <see cref="GpcField"/> (ordering only).</summary>
    public const string GpcOccurredAtField = "gpcAt";

    /// <summary>Hash fields to subject consent; an empty hash (missing key) means no record.</summary>
    public static SubjectConsent? Parse(HashEntry[] fields, ILogger logger)
    {
        if (fields.Length == 0)
        {
            return null;
        }

        long version = 0;
        var gpc = false;
        DateTimeOffset? gpcAt = null;
        List<PurposeConsent>? purposes = null;
        foreach (var field in fields)
        {
            var name = (string?)field.Name;
            if (name is null)
            {
                continue;
            }

            if (name == VersionField)
            {
                if (!field.Value.TryParse(out version))
                {
                    version = 0;
                    ConsentLog.UnparsableField(logger, "version");
                }
            }
            else if (name == GpcField)
            {
                gpc = ParseGpc(field.Value, logger);
            }
            else if (name == GpcOccurredAtField)
            {
                // Ordering bookkeeping only: an unreadable value is simply unknown.
                gpcAt = DateTimeOffset.TryParse((string?)field.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
            }
            else if (name.StartsWith(PurposeFieldPrefix, StringComparison.Ordinal) && name.Length > PurposeFieldPrefix.Length)
            {
                var purpose = name[PurposeFieldPrefix.Length..];
                purposes ??= new List<PurposeConsent>(fields.Length);
                purposes.Add(ParsePurpose(purpose, field.Value, logger));
            }

            // Any other field is ignored: room for writers to add their own bookkeeping.
        }

        return new SubjectConsent(version, gpc, purposes is null ? [] : [.. purposes]) { GpcOccurredAt = gpcAt };
    }

    private static bool ParseGpc(RedisValue value, ILogger logger)
    {
        var text = (string?)value;
        switch (text)
        {
            case "1":
                return true;
            case "0" or "" or null:
                return false;
            default:
                // An unknown value is read as GPC present: the restrictive reading.
                ConsentLog.UnparsableField(logger, "gpc");
                return true;
        }
    }

    /// <summary>One <c>p:{purpose}</c> value. Anything unparsable reads as a denial.</summary>
    public static PurposeConsent ParsePurpose(string purpose, RedisValue value, ILogger logger)
    {
        if (TryParsePurpose(purpose, ((ReadOnlyMemory<byte>)value).Span, out var consent))
        {
            return consent;
        }

        ConsentLog.UnparsableField(logger, "purpose");
        return new PurposeConsent(purpose, ConsentStatus.Denied, null, DateTimeOffset.UnixEpoch, "unparsable");
    }

    internal static bool TryParsePurpose(string purpose, ReadOnlySpan<byte> json, out PurposeConsent consent)
    {
        consent = null!;
        ConsentStatus? status = null;
        DateTimeOffset? expiresAt = null;
        var updatedAt = DateTimeOffset.UnixEpoch;
        DateTimeOffset? occurredAt = null;
        string? source = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("status"u8))
                {
                    reader.Read();
                    status = ParseStatus(ref reader);
                    if (status is null)
                    {
                        return false;
                    }
                }
                else if (reader.ValueTextEquals("expiresAt"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        expiresAt = null;
                    }
                    else if (reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var e))
                    {
                        expiresAt = e;
                    }
                    else
                    {
                        return false; // an expiry we cannot read must not become "never expires"
                    }
                }
                else if (reader.ValueTextEquals("updatedAt"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var u))
                    {
                        updatedAt = u;
                    }
                    else if (reader.TokenType != JsonTokenType.Null)
                    {
                        return false;
                    }
                }
                else if (reader.ValueTextEquals("occurredAt"u8))
                {
                    // Ordering bookkeeping only (never decides access): an unreadable value is unknown, not a denial.
                    reader.Read();
                    occurredAt = reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var o) ? o : null;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("source"u8))
                {
                    reader.Read();
                    source = reader.TokenType switch
                    {
                        JsonTokenType.String => reader.GetString(),
                        JsonTokenType.Null => null,
                        _ => throw new JsonException(),
                    };
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read() || status is null)
            {
                return false; // truncated, trailing data, or no status at all
            }
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        consent = new PurposeConsent(purpose, status.Value, expiresAt, updatedAt, source) { OccurredAt = occurredAt };
        return true;
    }

    private static ConsentStatus? ParseStatus(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return null;
        }

        if (reader.ValueTextEquals("granted"u8))
        {
            return ConsentStatus.Granted;
        }

        if (reader.ValueTextEquals("denied"u8))
        {
            return ConsentStatus.Denied;
        }

        return null; // unknown words (including other casings) fail closed
    }

    /// <summary>The JSON value of a <c>p:{purpose}</c> field as the gateway writes it.</summary>
    /// <param name="occurredAt">When the decision was made at its source; written as <c>occurredAt</c> when given (orders consent events).</param>
    public static byte[] FormatPurpose(ConsentStatus status, DateTimeOffset? expiresAt, DateTimeOffset updatedAt, string? source, DateTimeOffset? occurredAt = null)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("status"u8, status == ConsentStatus.Granted ? "granted"u8 : "denied"u8);
            if (expiresAt is { } e)
            {
                writer.WriteString("expiresAt"u8, FormatTime(e));
            }
            else
            {
                writer.WriteNull("expiresAt"u8);
            }

            writer.WriteString("updatedAt"u8, FormatTime(updatedAt));
            if (source is null)
            {
                writer.WriteNull("source"u8);
            }
            else
            {
                writer.WriteString("source"u8, source);
            }

            if (occurredAt is { } o)
            {
                writer.WriteString("occurredAt"u8, FormatTime(o));
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>UTC, ISO 8601, "Z", fraction only when present: "2027-01-01T00:00:00Z".</summary>
    public static string FormatTime(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
