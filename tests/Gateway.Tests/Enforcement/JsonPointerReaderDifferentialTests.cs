using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using ConsentGateway.Enforcement;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static ConsentGateway.Tests.Enforcement.JsonTokenizerDifferential;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>
/// The pointer reader on <see cref="JsonTokenizer"/> against two references: its former self on
/// <see cref="Utf8JsonReader"/> (<see cref="JsonPointerOracle"/>: same status, same value), and the
/// reader's own verdict on the body (Malformed exactly when the reader rejects it or an escape does
/// not decode).
/// </summary>
public class JsonPointerReaderDifferentialTests
{
    private static readonly string[] Pointers = ["", "/id", "/a/id", "/a/0", "/0", "/0/id", "/a/1/id", "/a/0/a/id", "/~1"];

    private static readonly Gen<string> NameGen = Gen.Elements(
        "\"id\"", "\"ID\"", "\"\\u0069d\"", "\"a\"", "\"A\"", "\"\\u0041\"", "\"0\"", "\"/\"", "\"x\"", "\"\\ud800\"", "\"\\/\"");

    private static readonly Gen<string> PointerDocumentGen =
        from depth in Gen.Choose(0, 4)
        from before in Ws
        from value in PointerValueGen(depth)
        from after in Ws
        select before + value + after;

    public static TheoryData<string, int> Bodies => new()
    {
        { """{"id":"a"}""", 64 },
        { " \t\r\n{ \"id\" : \"a\" } \n", 64 },
        { """{"id":"a"} """, 64 },
        { """ {"id":"a"}""", 64 },
        { """{"id" :"a" , "x" : [ 1 , { "y" : null } ] }""", 64 },
        { """{"id":"a","x":[1,{"y":null}]}""", 64 },
        { """{"id":"a","x":[1 {"y":null}]}""", 64 },
        { """{"id":"a","x":[1,{"y":nul}]}""", 64 },
        { """{"id":"a","x":[1,{"y":null]}""", 64 },
        { """{"id":"a","x":{"y":[}}""", 64 },
        { """{"id":"a","x":[01]}""", 64 },
        { """{"id":"a","x":[1.]}""", 64 },
        { """{"id":"a","x":[-]}""", 64 },
        { """{"id":"a","x":[1e+]}""", 64 },
        { """{"id":"a","x":["\x"]}""", 64 },
        { """{"id":"a","x":["\u12"]}""", 64 },
        { """{"id":"a","x":["\ud800"]}""", 64 },
        { """{"id":"a","x":["\ud83d\ude00"]}""", 64 },
        { """{"id":"a","x":{"\udc00":1}}""", 64 },
        { """{"id":"a","x":{"\u0079":"\n"}}""", 64 },
        { """{"\u0069d":"\u0061\/b","x":[]}""", 64 },
        { "{\"id\":\"a\",\"x\":\"\t\"}", 64 },
        { "{\"id\":\"a\",\"x\":[\"\u0001\"]}", 64 },
        { """{"id":"a","x":[true,false,null,-0.5e-3,1E9]}""", 64 },
        { """{"id":"a","x":[tru]}""", 64 },
        { """{"id":"a"}""" + "\u0000", 64 },
        { """{"id":"a",/*c*/"x":1}""", 64 },
        { """{'id':"a"}""", 64 },
        { """{"id":"a""x":1}""", 64 },
        { """{"id":"a",,"x":1}""", 64 },
        { """{"id":"a","x":1,}""", 64 },
        { """{"id":"a","x":[1,]}""", 64 },
        { """{"id":"a","x":]""", 64 },
        { """{"id":"a","x":{]}""", 64 },
        { """{"id":"a","x":[}]""", 64 },
        { """["a"] ["b"]""", 64 },
        { "\"a\" 1", 64 },
        { "1", 1 },
        { "[]", 1 },
        { "[[]]", 1 },
        { "{}", 1 },
        { "{\"id\":{}}", 1 },
        { "{\"id\":\"a\"}", 1 },
        { "   ", 64 },
        { "[", 64 },
        { "\"", 64 },
        { "nul", 64 },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Malformed_exactly_when_the_reader_rejects_the_body(string json, int maxDepth)
    {
        foreach (string pointer in Pointers)
        {
            AssertAgrees(Encoding.UTF8.GetBytes(json), pointer, caseSensitive: false, maxDepth);
        }
    }

    /// <summary>Nesting at the limit and one either side, compact (the one-pass skip) and spaced (token by token), before and after the target.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(256)]
    public void Depth_limit_is_the_readers_MaxDepth(int limit)
    {
        foreach (int depth in new[] { limit - 1, limit, limit + 1, limit + 2 })
        {
            // The root object is one level; the rest are arrays or objects below "x".
            int inner = depth - 1;
            foreach (string space in new[] { "", " " })
            {
                string arrays = new string('[', Math.Max(inner, 0)).Replace("[", "[" + space) + new string(']', Math.Max(inner, 0));
                string objects = string.Concat(Enumerable.Repeat("{\"o\":" + space, Math.Max(inner - 1, 0))) + (inner > 0 ? "{}" : "") + new string('}', Math.Max(inner - 1, 0));
                foreach (string nested in new[] { arrays, objects, "[\"\\u0041\"," + (arrays.Length == 0 ? "0" : arrays) + "]" })
                {
                    string value = nested.Length == 0 ? "0" : nested;
                    foreach (string json in new[] { "{\"id\":\"a\",\"x\":" + value + "}", "{\"x\":" + value + ",\"id\":\"a\"}" })
                    {
                        var bytes = Encoding.UTF8.GetBytes(json);
                        var status = AssertAgrees(bytes, "/id", caseSensitive: false, limit);
                        bool tooDeep = Math.Max(depth, 1) + (nested.StartsWith("[\"", StringComparison.Ordinal) ? 1 : 0) > limit;
                        Assert.Equal(tooDeep ? JsonPointerStatus.Malformed : JsonPointerStatus.Found, status);
                    }
                }
            }
        }
    }

    [Property(MaxTest = 3000)]
    public Property Generated_documents_read_as_before() =>
        Prop.ForAll(Arb.From(PointerDocumentGen), Arb.From(Gen.Choose(0, int.MaxValue)), (Action<string, int>)((text, seed) =>
        {
            var rng = new Random(seed);
            AssertAgrees(Encoding.UTF8.GetBytes(text), Pointers[rng.Next(Pointers.Length)], rng.Next(2) == 0, rng.Next(1, 7));
        }));

    [Property(MaxTest = 3000)]
    public Property Mutated_documents_read_as_before() =>
        Prop.ForAll(Arb.From(PointerDocumentGen), Arb.From(Gen.Choose(0, int.MaxValue)), (Action<string, int>)((text, seed) =>
        {
            var rng = new Random(seed);
            var mutant = Mutate(Encoding.UTF8.GetBytes(text), rng);
            if (mutant is not null)
            {
                AssertAgrees(mutant, Pointers[rng.Next(Pointers.Length)], rng.Next(2) == 0, rng.Next(1, 7));
            }
        }));

    [Fact]
    public void Long_names_and_values_are_read_past_the_stack_buffers()
    {
        string longName = new('n', 1000);
        string escaped = string.Concat(Enumerable.Repeat("\\u00e9", 300));
        var json = $$"""{"{{longName}}":"{{escaped}}","{{escaped}}":1,"id":"{{escaped}}"}""";
        var expected = new string('é', 300);
        Assert.Equal(JsonPointerStatus.Found, AssertAgrees(Encoding.UTF8.GetBytes(json), "/id", caseSensitive: false, 64));
        Assert.Equal(JsonPointerStatus.Found, JsonPointerReader.TryRead(Encoding.UTF8.GetBytes(json), "/id", false, 64, out var value));
        Assert.Equal(expected, value);
        Assert.Equal(JsonPointerStatus.Found, AssertAgrees(Encoding.UTF8.GetBytes(json), "/" + expected, caseSensitive: false, 64));
        var longPointer = string.Concat(Enumerable.Repeat("/a", 40));
        var deep = string.Concat(Enumerable.Repeat("{\"A\":", 40)) + "7" + new string('}', 40);
        Assert.Equal(JsonPointerStatus.Found, AssertAgrees(Encoding.UTF8.GetBytes(deep), longPointer, caseSensitive: false, 64));
        Assert.Equal(JsonPointerStatus.Malformed, AssertAgrees(Encoding.UTF8.GetBytes(deep), longPointer, caseSensitive: false, 39));
    }

    [Fact]
    public void A_parsed_pointer_reads_as_its_text_does()
    {
        Assert.True(JsonPointer.TryParse("/a~1b/m~0n/01/1", out var pointer, out _));
        Assert.Equal("/a~1b/m~0n/01/1", pointer.Text);
        Assert.Equal(4, pointer.Length);
        Assert.Equal(new[] { "a/b", "m~n", "01", "1" }, Enumerable.Range(0, pointer.Length).Select(pointer.Token));
        Assert.Equal(new[] { -1, -1, -1, 1 }, Enumerable.Range(0, pointer.Length).Select(pointer.Index));
        Assert.Equal("m~n", pointer.Name(1).Text);
        var json = """{"A/B":{"M~N":{"01":"x"}},"a/b":{"m~n":{"01":[0,"y"]}}}"""u8;
        Assert.Equal(JsonPointerStatus.Ambiguous, JsonPointerReader.TryRead(json, pointer, false, 64, out _));
        Assert.Equal(JsonPointerStatus.Found, JsonPointerReader.TryRead(json, pointer, true, 64, out var value));
        Assert.Equal("y", value);
        Assert.False(JsonPointer.TryParse("x", out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    private static Gen<string> PointerValueGen(int depth) => depth <= 0
        ? ScalarGen
        : Gen.Frequency((2, ScalarGen), (3, PointerObjectGen(depth - 1)), (2, PointerArrayGen(depth - 1)));

    private static Gen<string> PointerArrayGen(int depth) =>
        from n in Gen.Choose(0, 3)
        from items in Gen.ArrayOf(from a in Ws from v in PointerValueGen(depth) from b in Ws select a + v + b, n)
        select "[" + string.Join(",", items) + "]";

    private static Gen<string> PointerObjectGen(int depth) =>
        from n in Gen.Choose(0, 3)
        from members in Gen.ArrayOf(
            from a in Ws from name in NameGen from b in Ws from v in PointerValueGen(depth) from c in Ws
            select a + name + b + ":" + v + c,
            n)
        select "{" + string.Join(",", members) + "}";

    /// <summary>Asserts both references agree with the pointer reader; returns its status.</summary>
    private static JsonPointerStatus AssertAgrees(byte[] json, string pointer, bool caseSensitive, int maxDepth)
    {
        var actual = JsonPointerReader.TryRead(json, pointer, caseSensitive, maxDepth, out var value);
        var expected = JsonPointerOracle.TryRead(json, pointer, caseSensitive, maxDepth, out var expectedValue);
        Assert.True(
            (expected, expectedValue) == (actual, value),
            $"Pointer '{pointer}' (case-sensitive {caseSensitive}, max depth {maxDepth}): {actual} '{value}', before {expected} '{expectedValue}': {Show(json)}");
        bool accepted = ReaderAccepts(json, maxDepth);
        Assert.True(
            (actual == JsonPointerStatus.Malformed) != accepted,
            $"Pointer '{pointer}': {actual}, but the reader {(accepted ? "accepts" : "rejects")} {Show(json)} (max depth {maxDepth})");
        return actual;
    }

    /// <summary>Whether System.Text.Json takes the body as one value, every escape decoding (no BOM: the gateway refuses it).</summary>
    private static bool ReaderAccepts(byte[] json, int maxDepth)
    {
        if (json.Length == 0 || json.AsSpan().StartsWith("\uFEFF"u8) || !Utf8.IsValid(json))
        {
            return false;
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
                {
                    reader.CopyString(new byte[reader.ValueSpan.Length]);
                }
            }

            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false;
        }
    }
}
