using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Benchmarks;

/// <summary>
/// Target 1: the streaming filter against the raw reader (physical limit, baseline) and a JsonNode
/// parse-remove-serialise version. Mix: name and email allowed; phone, location, deviceId stripped;
/// addresses[*].street redacted; cardNumber pseudonymised (HMAC-SHA256).
/// </summary>
[Config(typeof(BenchConfig))]
public class JsonFilterBenchmarks
{
    private static readonly string[] Paths =
        ["$.name", "$.email", "$.phone", "$.addresses[*].street", "$.cardNumber", "$.location", "$.deviceId"];

    private static readonly FieldAction[] Actions =
        [FieldAction.Allow, FieldAction.Allow, FieldAction.Strip, FieldAction.Redact, FieldAction.Hash, FieldAction.Strip, FieldAction.Strip];

    private static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = true };

    private readonly byte[] _subject = "3b1f0c52-7d7e-4f3a-9a66-0c1f2d3e4b5a"u8.ToArray();
    private readonly byte[] _pseudonym = new byte[Pseudonymizer.Length];
    private JsonFieldFilter _filter = null!;
    private Pseudonymizer _pseudonymizer = null!;
    private ArrayBufferWriter<byte> _output = null!;
    private Utf8JsonWriter _nodeWriter = null!;
    private byte[] _json = null!;

    [Params(Documents.Small, Documents.Medium, Documents.Large)]
    public string Doc { get; set; } = Documents.Medium;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _json = Documents.Get(Doc);
        var paths = Paths.Select(p => JsonPath.TryParse(p, out var path, out var error) ? path : throw new InvalidOperationException(error)).ToList();
        _filter = new JsonFieldFilter(paths, caseSensitive: false, maxDepth: 64);
        _pseudonymizer = Setup.Pseudonymizer();
        _output = new ArrayBufferWriter<byte>(_json.Length * 2);
        _nodeWriter = new Utf8JsonWriter(_output);

        // Sanity: both implementations must withhold the same fields.
        var result = _filter.Filter(_json, Actions, _output, _pseudonymizer, _subject);
        if (result.Status != JsonFilterStatus.Ok || result.WithheldMask != 0b1111100)
        {
            throw new InvalidOperationException($"filter: {result}");
        }

        var filtered = JsonNode.Parse(_output.WrittenSpan)!.AsObject();
        _output.ResetWrittenCount();
        JsonNodeFilter();
        var byNode = JsonNode.Parse(_output.WrittenSpan)!.AsObject();
        if (!JsonNode.DeepEquals(filtered, byNode))
        {
            throw new InvalidOperationException("JsonNode version and filter disagree");
        }
    }

    [Benchmark(Baseline = true, Description = "Utf8JsonReader (tokenise only)")]
    public int RawReader()
    {
        var reader = new Utf8JsonReader(_json);
        var tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }

        return tokens;
    }

    [Benchmark(Description = "JsonFieldFilter")]
    public ulong StreamingFilter()
    {
        _output.ResetWrittenCount();
        return _filter.Filter(_json, Actions, _output, _pseudonymizer, _subject).WithheldMask;
    }

    [Benchmark(Description = "JsonNode parse-remove-write")]
    public int JsonNodeFilter()
    {
        _output.ResetWrittenCount();
        var root = JsonNode.Parse(_json, NodeOptions)!.AsObject();
        root.Remove("phone");
        root.Remove("location");
        root.Remove("deviceId");
        if (root["addresses"] is JsonArray addresses)
        {
            foreach (var address in addresses)
            {
                if (address is JsonObject a && a.ContainsKey("street"))
                {
                    a["street"] = null;
                }
            }
        }

        if (root["cardNumber"] is { } card)
        {
            // As the filter does: a string's unescaped text, anything else in compact form.
            var compact = card is JsonValue v && v.TryGetValue<string>(out var text)
                ? System.Text.Encoding.UTF8.GetBytes(text)
                : JsonSerializer.SerializeToUtf8Bytes(card);
            _pseudonymizer.Write(_subject, compact, _pseudonym);
            root["cardNumber"] = System.Text.Encoding.ASCII.GetString(_pseudonym);
        }

        _nodeWriter.Reset(_output);
        root.WriteTo(_nodeWriter);
        _nodeWriter.Flush();
        return _output.WrittenCount;
    }
}
