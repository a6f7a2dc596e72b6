using System.Buffers;
using System.Text;
using ConsentGateway.Enforcement;
using static ConsentGateway.Tests.Enforcement.FilterHarness;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>
/// The filter copies runs of input bytes between edits instead of re-writing every token; these pin the
/// separators around edits and the cases where a token must still be re-written canonically.
/// </summary>
public sealed class SpliceOutputTests
{
    private const FieldAction Strip = FieldAction.Strip;
    private const FieldAction Redact = FieldAction.Redact;

    [Theory]
    [InlineData("""{"email":"a","id":1,"name":"n"}""", """{"id":1,"name":"n"}""")] // first
    [InlineData("""{"id":1,"name":"n","email":"a"}""", """{"id":1,"name":"n"}""")] // last
    [InlineData("""{"email":"a"}""", "{}")] // only
    [InlineData("""{"id":1,"email":"a","phone":{"x":[1]},"name":"n"}""", """{"id":1,"name":"n"}""")] // two in a row
    [InlineData("""{"email":"a","phone":"p"}""", "{}")] // all
    [InlineData("""{"x":{"email":"a"},"email":{"phone":1},"y":[{"phone":2,"z":3}]}""", """{"x":{"email":"a"},"y":[{"z":3}]}""")] // nested
    public void Stripped_members_leave_no_stray_comma(string input, string expected) =>
        AssertOk(Run(input, Strip, "$.email", "$..phone"), expected);

    [Theory]
    // FieldAction is internal, so the action travels as a bool: redact or strip.
    [InlineData("""{"tags":["a","b","c"],"x":[1,2]}""", false, """{"tags":[],"x":[1,2]}""")]
    [InlineData("""{"tags":["a",{"b":1},[2]],"x":[1,2]}""", true, """{"tags":[null,null,null],"x":[1,2]}""")]
    [InlineData("""[{"tags":[1]},{"tags":[]},{"tags":[[],{}]}]""", false, """[{"tags":[1]},{"tags":[]},{"tags":[[],{}]}]""")]
    public void Array_elements_are_edited_in_place(string input, bool redact, string expected) =>
        AssertOk(Run(input, redact ? Redact : Strip, "$.tags[*]"), expected);

    [Fact]
    public void Edits_inside_every_array_element()
    {
        const string json = """{"orders":[{"id":1,"contact":{"name":"n","email":"e"},"payment":{"cardLast4":"1234","method":"card"}},{"id":2,"contact":{"email":"e2","name":"m"}}],"n":1}""";
        var outcome = Run(json, ["$.orders[*].contact.name", "$.orders[*].payment.cardLast4"], [Strip, Redact]);
        AssertOk(outcome, """{"orders":[{"id":1,"contact":{"email":"e"},"payment":{"cardLast4":null,"method":"card"}},{"id":2,"contact":{"email":"e2"}}],"n":1}""");
        Assert.Equal(0b11UL, outcome.Mask);
    }

    [Fact]
    public void A_pseudonym_replaces_the_value_between_copied_runs()
    {
        AssertOk(Run("""{"a":[1],"email":{"x":"y"},"b":2}""", FieldAction.Hash, "$.email"), $$"""{"a":[1],"email":"{{Hash("""{"x":"y"}""")}}","b":2}""");
    }

    [Theory]
    // Escaped names and strings are unescaped (and checked) and written canonically, around them the input is copied.
    [InlineData("""{"\u0069d":1,"email":"a","n\u0061me":"\u0041\n"}""", """{"id":1,"name":"A\n"}""")]
    // Names the relaxed encoder escapes even unescaped: outside the BMP, and DEL.
    [InlineData("{\"😀\":1,\"é\":2,\"\u007f\":3,\"email\":\"a\"}", """{"\uD83D\uDE00":1,"é":2,"\u007F":3}""")]
    // Unescaped string values are forwarded as sent, whatever they contain.
    [InlineData("{\"s\":\"😀\u007f\",\"email\":\"a\"}", "{\"s\":\"😀\u007f\"}")]
    public void Names_and_strings_that_are_not_canonical_are_rewritten(string input, string expected) =>
        AssertOk(Run(input, Strip, "$.email"), expected);

    [Fact]
    public void A_name_is_copied_only_when_every_byte_is_printable_ascii_whatever_its_length_and_position()
    {
        // The check reads names eight or four bytes at a time: put one DEL, one 2-byte and one 4-byte
        // character at every position of names 1 to 20 characters long and compare with what a compact
        // Utf8JsonWriter with the filter's encoder (the canonical form) writes for the same document.
        foreach (var odd in new[] { "\u007f", "é", "😀", "~" })
        {
            for (var length = 1; length <= 20; length++)
            {
                for (var at = 0; at < length; at++)
                {
                    var name = new string('k', at) + odd + new string('k', length - at - 1);
                    var input = "{\"" + name + "\":1,\"email\":\"a\"}";
                    var output = new ArrayBufferWriter<byte>();
                    var options = new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
                    using (var writer = new System.Text.Json.Utf8JsonWriter(output, options))
                    {
                        writer.WriteStartObject();
                        writer.WriteNumber(name, 1);
                        writer.WriteEndObject();
                    }

                    AssertOk(Run(input, Strip, "$.email"), Encoding.UTF8.GetString(output.WrittenSpan));
                }
            }
        }
    }

    [Fact]
    public void Whitespace_between_tokens_is_dropped_around_edits()
    {
        const string json = " { \"id\" : 1 ,\n\"email\" : \"a\" ,\t\"tags\" : [ 1 , \"x\" , { } ] , \"phone\":2 } ";
        AssertOk(Run(json, Strip, "$.email", "$.phone"), """{"id":1,"tags":[1,"x",{}]}""");
    }

    [Fact]
    public void A_lone_surrogate_in_a_forwarded_name_is_refused()
    {
        Assert.Equal(JsonFilterStatus.Malformed, Run("""{"a":{"\ud800":1},"email":"x"}""", Strip, "$.a.email", "$.email").Status);
    }

    [Fact]
    public void Output_is_the_same_when_written_in_small_pieces()
    {
        const string json = """{"id":"cus_1","email":"a","orders":[{"contact":{"name":"n"},"items":[{"sku":"x","qty":2}]},{"contact":{"name":"m","phone":"p"}}],"tail":"end of the document"}""";
        string[] paths = ["$.email", "$.orders[*].contact.name"];
        FieldAction[] actions = [Strip, FieldAction.Hash];
        var expected = Run(json, paths, actions);
        Assert.Equal(JsonFilterStatus.Ok, expected.Status);

        var output = new SmallSpans();
        var result = Filter(false, 64, paths).Filter(Encoding.UTF8.GetBytes(json), actions, output, FilterHarness.Pseudonymizer, Encoding.UTF8.GetBytes(Subject));
        Assert.Equal(JsonFilterStatus.Ok, result.Status);
        Assert.Equal(expected.Output, Encoding.UTF8.GetString(output.Written.ToArray()));
    }

    /// <summary>Hands out spans exactly as large as asked for (and no smaller than 8 bytes).</summary>
    private sealed class SmallSpans : IBufferWriter<byte>
    {
        private byte[] _current = [];

        public List<byte> Written { get; } = [];

        public void Advance(int count) => Written.AddRange(_current.AsSpan(0, count));

        public Memory<byte> GetMemory(int sizeHint = 0) => _current = new byte[Math.Max(sizeHint, 8)];

        public Span<byte> GetSpan(int sizeHint = 0) => _current = new byte[Math.Max(sizeHint, 8)];
    }
}
