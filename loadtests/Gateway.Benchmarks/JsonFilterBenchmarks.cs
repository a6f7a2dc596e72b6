using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Benchmarks;

/// <summary>
/// Target 1: the streaming filter against the raw reader (physical limit, baseline) and a JsonNode
/// parse-edit-serialise version, on the synthetic customer documents (personal fields near the root)
/// and on the SampleApi medium profile under route customer-profile (edits inside every order and
/// activity entry). See <see cref="FilterCase"/> for the paths and actions of each.
/// </summary>
[Config(typeof(BenchConfig))]
public class JsonFilterBenchmarks
{
    private static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = true };

    private readonly byte[] _subject = "3b1f0c52-7d7e-4f3a-9a66-0c1f2d3e4b5a"u8.ToArray();
    private readonly byte[] _pseudonym = new byte[Pseudonymizer.Length];
    private FilterCase _case = null!;
    private Func<JsonNode, string> _hash = null!;
    private JsonFieldFilter _filter = null!;
    private Pseudonymizer _pseudonymizer = null!;
    private ArrayBufferWriter<byte> _output = null!;
    private Utf8JsonWriter _nodeWriter = null!;
    private byte[] _json = null!;
    private FieldAction[] _actions = null!;

    [Params(Documents.Small, Documents.Small + FilterCase.RedactedSuffix, Documents.Medium, Documents.Large, FilterCase.Profile)]
    public string Doc { get; set; } = Documents.Medium;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _case = FilterCase.For(Doc);
        _json = _case.Json;
        _actions = _case.Actions;
        var paths = _case.Paths.Select(p => JsonPath.TryParse(p, out var path, out var error) ? path : throw new InvalidOperationException(error)).ToList();
        _filter = new JsonFieldFilter(paths, caseSensitive: false, maxDepth: 64);
        _pseudonymizer = Setup.Pseudonymizer();
        _hash = node =>
        {
            _pseudonymizer.Write(_subject, FilterCase.HashInput(node), _pseudonym);
            return System.Text.Encoding.ASCII.GetString(_pseudonym);
        };
        _output = new ArrayBufferWriter<byte>(_json.Length * 2);
        _nodeWriter = new Utf8JsonWriter(_output);

        // Sanity: both implementations must withhold the same fields.
        var result = _filter.Filter(_json, _actions, _output, _pseudonymizer, _subject);
        if (result.Status != JsonFilterStatus.Ok || result.WithheldMask != _case.ExpectedMask)
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
        return _filter.Filter(_json, _actions, _output, _pseudonymizer, _subject).WithheldMask;
    }

    [Benchmark(Description = "JsonNode parse-remove-write")]
    public int JsonNodeFilter()
    {
        _output.ResetWrittenCount();
        var root = JsonNode.Parse(_json, NodeOptions)!.AsObject();
        _case.Edit(root, _hash);
        _nodeWriter.Reset(_output);
        root.WriteTo(_nodeWriter);
        _nodeWriter.Flush();
        return _output.WrittenCount;
    }
}
