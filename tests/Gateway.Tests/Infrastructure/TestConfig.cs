using System.Text.Json.Nodes;
using ConsentGateway.Hosting;

namespace ConsentGateway.Tests.Infrastructure;

/// <summary>
/// The policy most tests run against: one purpose per legal basis, two callers, and routes that
/// exercise every rule location, direction, action and mode. Tests mutate a fresh copy.
/// </summary>
public static class TestConfig
{
    public const string ApiKey = "test-caller-key";
    public const string LimitedApiKey = "limited-caller-key";
    public const string AdminKey = "test-admin-key";

    /// <summary>32 fixed bytes: tests need stable pseudonyms.</summary>
    public static readonly string HashKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    public static JsonObject Create(string upstreamAddress)
    {
        var fields = new JsonArray
        {
            Field("$.email", "user.contact.email"),
            Field("$.name", "user.name"),
            Field("$..phone", "user.contact.phone_number"),
            Field("$.addresses[*].street", "user.contact.address.street"),
            Field("$.location", "user.location.precise"),
            Field("$.card", "user.financial.credit_card"),
            Field("$.deviceId", "user.device.device_id"),
            Field("header:X-Device-Id", "user.device.device_id"),
            Field("query:email", "user.contact.email"),
        };

        return new JsonObject
        {
            ["Gateway"] = new JsonObject
            {
                ["HashKey"] = HashKey,
                ["AdminKeys"] = new JsonArray(Sha256Hex.Compute(AdminKey)),
                ["MaxRequestBodyBytes"] = 1048576,
                ["MaxJsonDepth"] = 64,
            },
            // Generous store deadlines: these gateways test behaviour, not speed, and the whole suite runs
            // in parallel on a busy machine. Once in a full run a granted field came back withheld right
            // after its grant (RedisEndToEndTests); the likeliest cause is a Redis read slower than the
            // 250-ms default, answered fail-closed as "store unavailable". Deadline behaviour is tested
            // with explicit values (RedisConsentStoreTests, ConsentCacheTests).
            ["Consent"] = new JsonObject
            {
                ["LookupTimeout"] = "00:00:02",
                ["StoreTimeout"] = "00:00:02",
            },
            ["Policy"] = new JsonObject
            {
                ["Purposes"] = new JsonObject
                {
                    ["marketing"] = Purpose("consent", "user.contact", "user.name"),
                    ["analytics"] = Purpose("legitimate-interest", "user.contact", "user.device"),
                    ["ads"] = Purpose("opt-out", "user.contact"),
                    ["fulfilment"] = Purpose("contract", "user.contact", "user.name", "user.location"),
                    ["fraud"] = Purpose("legal-obligation", "user.financial"),
                },
                ["Callers"] = new JsonObject
                {
                    ["app"] = new JsonObject { ["KeySha256"] = Sha256Hex.Compute(ApiKey), ["Purposes"] = new JsonArray("marketing", "analytics", "ads", "fulfilment", "fraud") },
                    ["limited"] = new JsonObject { ["KeySha256"] = Sha256Hex.Compute(LimitedApiKey), ["Purposes"] = new JsonArray("marketing") },
                },
                ["Routes"] = new JsonObject
                {
                    ["customers"] = Route(fields.DeepClone(), subject: new JsonObject { ["From"] = "header" }),
                    ["by-id"] = Route(fields.DeepClone(), subject: new JsonObject { ["From"] = "route", ["Name"] = "id" }),
                    ["by-query"] = Route(fields.DeepClone(), subject: new JsonObject { ["From"] = "query", ["Name"] = "subject" }),
                    ["by-body"] = Route(fields.DeepClone(), subject: new JsonObject { ["From"] = "body", ["Name"] = "/customer/id" }, direction: "request"),
                    ["fixed"] = Route(fields.DeepClone(), subject: new JsonObject { ["From"] = "header" }, purpose: new JsonObject { ["Fixed"] = "marketing" }),
                    ["redact"] = Route(fields.DeepClone(), action: "redact"),
                    ["hash"] = Route(fields.DeepClone(), action: "hash"),
                    ["block"] = Route(fields.DeepClone(), action: "block"),
                    ["report"] = Route(fields.DeepClone(), mode: "report"),
                    ["request-only"] = Route(fields.DeepClone(), direction: "request"),
                    ["response-only"] = Route(new JsonArray(Field("$.email", "user.contact.email"), Field("header:X-Device-Id", "user.device.device_id")), direction: "response"),
                },
            },
            ["ReverseProxy"] = new JsonObject
            {
                ["Routes"] = new JsonObject
                {
                    ["customers"] = YarpRoute("/customers/{**rest}"),
                    ["by-id"] = YarpRoute("/by-id/{id}"),
                    ["by-query"] = YarpRoute("/by-query/{**rest}"),
                    ["by-body"] = YarpRoute("/by-body/{**rest}"),
                    ["fixed"] = YarpRoute("/fixed/{**rest}"),
                    ["redact"] = YarpRoute("/redact/{**rest}"),
                    ["hash"] = YarpRoute("/hash/{**rest}"),
                    ["block"] = YarpRoute("/block/{**rest}"),
                    ["report"] = YarpRoute("/report/{**rest}"),
                    ["request-only"] = YarpRoute("/request-only/{**rest}"),
                    ["response-only"] = YarpRoute("/response-only/{**rest}"),
                },
                ["Clusters"] = new JsonObject
                {
                    ["upstream"] = new JsonObject { ["Destinations"] = new JsonObject { ["d1"] = new JsonObject { ["Address"] = upstreamAddress } } },
                },
            },
        };
    }

    public static JsonObject Field(string path, string category, string? action = null)
    {
        var field = new JsonObject { ["Path"] = path, ["Category"] = category };
        if (action is not null)
        {
            field["Action"] = action;
        }

        return field;
    }

    private static JsonObject Purpose(string basis, params string[] categories) =>
        new() { ["Basis"] = basis, ["Categories"] = new JsonArray(categories.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()) };

    private static JsonObject Route(JsonNode fields, JsonObject? subject = null, JsonObject? purpose = null, string direction = "both", string action = "strip", string mode = "enforce")
    {
        var route = new JsonObject
        {
            ["Subject"] = subject ?? new JsonObject { ["From"] = "header" },
            ["Direction"] = direction,
            ["Action"] = action,
            ["Mode"] = mode,
            ["Fields"] = fields,
        };
        if (purpose is not null)
        {
            route["Purpose"] = purpose;
        }

        return route;
    }

    private static JsonObject YarpRoute(string path) => new() { ["ClusterId"] = "upstream", ["Match"] = new JsonObject { ["Path"] = path } };
}
