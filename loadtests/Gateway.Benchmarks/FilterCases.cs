using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConsentGateway.Enforcement;
using SampleApi.Data;

namespace ConsentGateway.Benchmarks;

/// <summary>
/// One filter benchmark case: a document, the paths and per-path actions the filter applies, and the
/// same edits done on a <see cref="JsonObject"/> for the DOM baseline.
/// </summary>
internal sealed class FilterCase
{
    /// <summary>The SampleApi medium profile (GET /customers/{id}/profile?size=medium) under route customer-profile.</summary>
    public const string Profile = "profile-8KB";

    private FilterCase(byte[] json, string[] paths, FieldAction[] actions, ulong expectedMask, Action<JsonObject, Func<JsonNode, string>> edit)
    {
        Json = json;
        Paths = paths;
        Actions = actions;
        ExpectedMask = expectedMask;
        Edit = edit;
    }

    public byte[] Json { get; }

    public string[] Paths { get; }

    public FieldAction[] Actions { get; }

    public ulong ExpectedMask { get; }

    /// <summary>Applies the case's edits to a parsed document; the function pseudonymises a value.</summary>
    public Action<JsonObject, Func<JsonNode, string>> Edit { get; }

    /// <summary>Suffix of a customer-document case with cardNumber redacted instead of pseudonymised ("0.5KB-redacted").</summary>
    public const string RedactedSuffix = "-redacted";

    public static FilterCase For(string doc) =>
        doc == Profile ? CustomerProfile()
        : doc.EndsWith(RedactedSuffix, StringComparison.Ordinal) ? Customer(Documents.Get(doc[..^RedactedSuffix.Length]), hashCard: false)
        : Customer(Documents.Get(doc), hashCard: true);

    /// <summary>
    /// Name and email allowed; phone, location, deviceId stripped; addresses[*].street redacted;
    /// cardNumber pseudonymised (or, without <paramref name="hashCard"/>, redacted: the same walk and
    /// output without the one HMAC, so the pseudonym's share of the time is measured side by side).
    /// Every personal field of this document sits near the root.
    /// </summary>
    private static FilterCase Customer(byte[] json, bool hashCard) => new(
        json,
        ["$.name", "$.email", "$.phone", "$.addresses[*].street", "$.cardNumber", "$.location", "$.deviceId"],
        [FieldAction.Allow, FieldAction.Allow, FieldAction.Strip, FieldAction.Redact, hashCard ? FieldAction.Hash : FieldAction.Redact, FieldAction.Strip, FieldAction.Strip],
        0b1111100,
        hashCard
            ? static (root, hash) =>
            {
                RemoveRootFields(root);
                HashMember(root, "cardNumber", hash);
            }
            : static (root, _) =>
            {
                RemoveRootFields(root);
                if (root.ContainsKey("cardNumber"))
                {
                    root["cardNumber"] = null;
                }
            });

    private static void RemoveRootFields(JsonObject root)
    {
        root.Remove("phone");
        root.Remove("location");
        root.Remove("deviceId");
        RedactEach(root["addresses"], "street");
    }

    /// <summary>
    /// The 16 paths of route customer-profile in config/gateway.json, for a caller whose purpose grants
    /// user.name and user.contact.*: the rest is denied with the route's actions (strip by default,
    /// cardNumber hashed, cardLast4 redacted). The paths reach into every order and activity entry.
    /// </summary>
    private static FilterCase CustomerProfile()
    {
        var customer = SampleData.Instance.Customers[0];
        var json = Profiles.Get(customer, ProfileSize.Medium);
        return new(
            json,
            [
                "$.name", "$.email", "$.phone", "$.addresses", "$.cardNumber", "$.location", "$.deviceId", "$.dateOfBirth",
                "$.orders[*].contact.name", "$.orders[*].contact.email", "$.orders[*].contact.phone", "$.orders[*].shippingAddress",
                "$.orders[*].payment.cardLast4", "$.activity[*].ipAddress", "$.activity[*].deviceId", "$.activity[*].location",
            ],
            [
                FieldAction.Allow, FieldAction.Allow, FieldAction.Allow, FieldAction.Allow, FieldAction.Hash, FieldAction.Strip, FieldAction.Strip, FieldAction.Strip,
                FieldAction.Allow, FieldAction.Allow, FieldAction.Allow, FieldAction.Allow,
                FieldAction.Redact, FieldAction.Strip, FieldAction.Strip, FieldAction.Strip,
            ],
            0b1111_0000_1111_0000,
            static (root, hash) =>
            {
                HashMember(root, "cardNumber", hash);
                root.Remove("location");
                root.Remove("deviceId");
                root.Remove("dateOfBirth");
                foreach (var order in root["orders"]?.AsArray() ?? [])
                {
                    if (order?["payment"] is JsonObject payment && payment.ContainsKey("cardLast4"))
                    {
                        payment["cardLast4"] = null;
                    }
                }

                foreach (var entry in root["activity"]?.AsArray() ?? [])
                {
                    if (entry is JsonObject e)
                    {
                        e.Remove("ipAddress");
                        e.Remove("deviceId");
                        e.Remove("location");
                    }
                }
            });
    }

    private static void RedactEach(JsonNode? array, string member)
    {
        if (array is not JsonArray items)
        {
            return;
        }

        foreach (var item in items)
        {
            if (item is JsonObject o && o.ContainsKey(member))
            {
                o[member] = null;
            }
        }
    }

    private static void HashMember(JsonObject root, string member, Func<JsonNode, string> hash)
    {
        if (root[member] is { } value)
        {
            root[member] = hash(value);
        }
    }

    /// <summary>As the filter does: a string's unescaped text, anything else in compact form.</summary>
    public static byte[] HashInput(JsonNode value) =>
        value is JsonValue v && v.TryGetValue<string>(out var text)
            ? Encoding.UTF8.GetBytes(text)
            : JsonSerializer.SerializeToUtf8Bytes(value);
}
