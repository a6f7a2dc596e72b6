using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SampleApi.Data;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Customer))]
[JsonSerializable(typeof(IReadOnlyList<Customer>))]
[JsonSerializable(typeof(Order))]
[JsonSerializable(typeof(IReadOnlyList<Order>))]
[JsonSerializable(typeof(Activity))]
[JsonSerializable(typeof(Profile))]
[JsonSerializable(typeof(Health))]
internal sealed partial class SampleJsonContext : JsonSerializerContext
{
    /// <summary>
    /// Web defaults, but without escaping '+', '\'' or non-ASCII letters as \uXXXX, so output is readable
    /// (and carries real multi-byte UTF-8 for the gateway to validate).
    /// </summary>
    public static SampleJsonContext Relaxed { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

internal sealed record Health(string Status, int Customers);
