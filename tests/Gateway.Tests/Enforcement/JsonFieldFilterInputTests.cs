using System.Buffers;
using System.Text;
using System.Text.Json;
using ConsentGateway.Enforcement;
using static ConsentGateway.Tests.Enforcement.FilterHarness;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>What the filter accepts, rejects and preserves byte for byte.</summary>
public class JsonFieldFilterInputTests
{
    private static readonly string[] EmailPath = ["$.email"];
    private static readonly FieldAction[] StripOne = [FieldAction.Strip];

    private static string Nest(int levels, string inner = "1") =>
        string.Concat(Enumerable.Repeat("{\"a\":", levels - 1)) + "[" + inner + "]" + new string('}', levels - 1);

    [Fact]
    public void Depth_at_the_limit_is_accepted_and_one_more_is_too_deep()
    {
        // Nest(n) has n levels of containers: n-1 objects around one array.
        var atLimit = Run(Nest(5), EmailPath, StripOne, maxDepth: 5);
        AssertOk(atLimit, Nest(5));
        Assert.Equal(JsonFilterStatus.TooDeep, Run(Nest(6), EmailPath, StripOne, maxDepth: 5).Status);
        Assert.Equal(JsonFilterStatus.TooDeep, Run(Nest(65), EmailPath, StripOne).Status);
        AssertOk(Run(Nest(64), EmailPath, StripOne), Nest(64));
        Assert.Equal(JsonFilterStatus.TooDeep, Run(new string('[', 100) + new string(']', 100), EmailPath, StripOne).Status);
    }

    [Fact]
    public void Depth_is_enforced_inside_withheld_values()
    {
        // The verdict on a body must not depend on consent: a stripped or hashed subtree is still checked.
        foreach (var action in new[] { FieldAction.Strip, FieldAction.Redact, FieldAction.Hash, FieldAction.Block })
        {
            var tooDeep = "{\"email\":" + Nest(5) + "}";
            Assert.Equal(JsonFilterStatus.TooDeep, Run(tooDeep, EmailPath, [action], maxDepth: 5).Status);
            var fits = "{\"email\":" + Nest(4) + "}";
            Assert.NotEqual(JsonFilterStatus.TooDeep, Run(fits, EmailPath, [action], maxDepth: 5).Status);
        }
    }

    [Fact]
    public void Depth_limit_of_one_allows_a_flat_object()
    {
        AssertOk(Run("""{"a":1,"email":2}""", EmailPath, StripOne, maxDepth: 1), """{"a":1}""");
        Assert.Equal(JsonFilterStatus.TooDeep, Run("""{"a":[]}""", EmailPath, StripOne, maxDepth: 1).Status);
    }

    [Fact]
    public void Unicode_values_are_preserved()
    {
        const string json = """{"name":"😀 漢字 ção","k":"\ud83d\ude00","\u6f22":"\u5b57","email":"👩‍💻"}""";
        var outcome = Run(json, EmailPath, StripOne);
        Assert.Equal(JsonFilterStatus.Ok, outcome.Status);

        // Unescaped strings travel byte for byte.
        Assert.StartsWith("""{"name":"😀 漢字 ção",""", outcome.Output, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(outcome.Output);
        Assert.Equal("😀 漢字 ção", doc.RootElement.GetProperty("name").GetString());
        Assert.Equal("😀", doc.RootElement.GetProperty("k").GetString());
        Assert.Equal("字", doc.RootElement.GetProperty("漢").GetString());
        Assert.False(doc.RootElement.TryGetProperty("email", out _));
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("9007199254740993")]
    [InlineData("-0.000000000000000000000000000001")]
    [InlineData("123456789012345678901234567890.123456789e-7")]
    [InlineData("-0")]
    [InlineData("1E+2")]
    public void Numbers_are_copied_as_their_original_text(string number)
    {
        var json = $$"""{"n":{{number}},"a":[{{number}}],"email":{{number}}}""";
        AssertOk(Run(json, EmailPath, StripOne), $$"""{"n":{{number}},"a":[{{number}}]}""");
    }

    [Fact]
    public void Escaped_strings_are_rewritten_with_canonical_escapes()
    {
        AssertOk(Run("""{"a":"x\ny\"z\\\/\u0041\t"}""", EmailPath, StripOne), """{"a":"x\ny\"z\\/A\t"}""");
    }

    [Fact]
    public void Invalid_utf8_is_rejected()
    {
        byte[][] bodies =
        [
            [.. "{\"a\":\""u8, 0xFF, .. "\"}"u8],
            [.. "{\"a\":\""u8, 0xC0, 0xAF, .. "\"}"u8], // overlong '/'
            [.. "{\"a\":\""u8, 0xED, 0xA0, 0x80, .. "\"}"u8], // encoded surrogate
            [.. "{\"email\":\""u8, 0xE2, 0x82, .. "\"}"u8], // truncated sequence in a stripped value
            [.. "{\""u8, 0xFE, .. "\":1}"u8], // in a name
        ];
        foreach (var body in bodies)
        {
            Assert.Equal(JsonFilterStatus.InvalidUtf8, Run(body, EmailPath, StripOne).Status);
        }
    }

    [Theory]
    [InlineData("""{"a":"\ud800"}""")]
    [InlineData("""{"a":"\udc00x"}""")]
    [InlineData("""{"a":"\ud800\u0041"}""")]
    [InlineData("""{"\ud800":1}""")]
    [InlineData("""{"email":"\ud800"}""")]
    [InlineData("""{"email":{"x":["\udfff"]}}""")]
    [InlineData("""["\ud83d"]""")]
    public void Lone_surrogate_escapes_are_malformed(string json)
    {
        foreach (var action in new[] { FieldAction.Allow, FieldAction.Strip, FieldAction.Redact, FieldAction.Hash })
        {
            Assert.Equal(JsonFilterStatus.Malformed, Run(json, EmailPath, [action]).Status);
        }
    }

    [Fact]
    public void A_byte_order_mark_is_malformed()
    {
        Assert.Equal(JsonFilterStatus.Malformed, Run([0xEF, 0xBB, 0xBF, .. "{}"u8], EmailPath, StripOne).Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{} x")]
    [InlineData("{}{}")]
    [InlineData("{\"a\":1}]")]
    [InlineData("{\"a\":1} 2")]
    [InlineData("1 2")]
    [InlineData("{\"a\":1")]
    [InlineData("{\"email\":{\"x\":[1,2}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{\"a\":01}")]
    [InlineData("{\"a\":NaN}")]
    [InlineData("{/*c*/\"a\":1}")]
    [InlineData("{'a':1}")]
    [InlineData("{\"a\":\"x\ny\"}")]
    [InlineData("{\"email\":\"unterminated}")]
    public void Malformed_json_is_rejected(string json)
    {
        Assert.Equal(JsonFilterStatus.Malformed, Run(json, EmailPath, StripOne).Status);
    }

    [Fact]
    public void Trailing_whitespace_is_fine()
    {
        AssertOk(Run("{\"email\":1}\r\n\t ", EmailPath, StripOne), "{}");
    }

    [Fact]
    public void Escaped_property_values_of_forwarded_names_survive_large_inputs()
    {
        // Larger than every initial scratch buffer: exercises growth of the unescape buffer.
        var big = string.Concat(Enumerable.Repeat("\\u0041", 20_000));
        var outcome = Run($$"""{"k":"{{big}}","\u0065mail":"{{big}}","{{big}}":1}""", EmailPath, StripOne);
        var a = new string('A', 20_000);
        AssertOk(outcome, $$"""{"k":"{{a}}","{{a}}":1}""");
    }

    [Fact]
    public void Output_is_appended_to_the_callers_buffer()
    {
        var filter = Filter(false, 64, "$.email");
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        output.Write("prefix:"u8);
        var result = filter.Filter("""{"email":1,"b":2}"""u8, StripOne, output, null, default);
        Assert.Equal(JsonFilterStatus.Ok, result.Status);
        Assert.Equal("""prefix:{"b":2}""", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void A_failed_document_does_not_disturb_the_next_one()
    {
        var filter = Filter(false, 64, "$.email");
        var broken = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.Equal(JsonFilterStatus.Malformed, filter.Filter("""{"a":[1,2,{"email":"""u8, StripOne, broken, null, default).Status);
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.Equal(JsonFilterStatus.Ok, filter.Filter("""{"email":1,"b":[2]}"""u8, StripOne, output, null, default).Status);
        Assert.Equal("""{"b":[2]}""", Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
