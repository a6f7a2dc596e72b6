using System.Buffers;
using System.Text;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>
/// Subtrees no path can reach, or only paths the request allows, are copied through as their original
/// bytes when that is exactly what re-writing them would produce; these tests pin the cases where it is not.
/// </summary>
public sealed class UnreachableSubtreeTests
{
    private static readonly Pseudonymizer Pseudonymizer = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    [Theory]
    // Compact and plain: copied as is, while the personal field beside it is still stripped.
    [InlineData("""{"email":"a@b","orders":[{"sku":"x","qty":2,"tags":["a","b"]},{"n":null,"t":true}]}""", """{"orders":[{"sku":"x","qty":2,"tags":["a","b"]},{"n":null,"t":true}]}""")]
    // Whitespace inside the unreachable subtree is still compacted.
    [InlineData("""{"email":"a@b","orders":[ {"sku" : "x"} ]}""", """{"orders":[{"sku":"x"}]}""")]
    // A single whitespace byte where a separator could stand is not compact either.
    [InlineData("{\"email\":\"a@b\",\"orders\":[ 1,{\"a\":\"b\"\t}],\"x\":{\"y\":\n2}}", """{"orders":[1,{"a":"b"}],"x":{"y":2}}""")]
    // Escaped names and strings inside it are still unescaped and re-written canonically.
    [InlineData("""{"orders":[{"s\u006bu":"\u0078"}],"email":"a@b"}""", """{"orders":[{"sku":"x"}]}""")]
    // Names that are not printable ASCII are re-escaped as the walk writes them, here too.
    [InlineData("{\"email\":\"a@b\",\"orders\":[{\"😀\":1,\"x\u007f\":2,\"é\":3}]}", "{\"orders\":[{\"\\uD83D\\uDE00\":1,\"x\\u007F\":2,\"é\":3}]}")]
    // Big numbers keep their original text either way.
    [InlineData("""{"orders":{"n":12345678901234567890123,"e":1e400},"email":"a@b"}""", """{"orders":{"n":12345678901234567890123,"e":1e400}}""")]
    public void Unreachable_subtrees_come_out_exactly_as_the_normal_path_writes_them(string input, string expected)
    {
        Assert.Equal(expected, Filter(input, out var status));
        Assert.Equal(JsonFilterStatus.Ok, status);
    }

    [Theory]
    // At the first token that is not plain the walk takes the container over and writes it; these pin
    // that hand-over: first and last positions, at depth, with containers still open.
    [InlineData("""{"orders":{"\u0061":1,"b":[2]},"email":"x"}""", """{"orders":{"a":1,"b":[2]}}""")]
    [InlineData("""{"orders":[1,2,"\u0033"],"email":"x"}""", """{"orders":[1,2,"3"]}""")]
    [InlineData("""{"orders":{"a":"\u0031","b":2},"email":"x"}""", """{"orders":{"a":"1","b":2}}""")]
    [InlineData("""{"orders":{"a": 1,"b":{"c":2}},"email":"x"}""", """{"orders":{"a":1,"b":{"c":2}}}""")]
    [InlineData("""{"orders":[{"a":[{"b":"\u0078","c":{"d":1}}],"e":[3]},4],"email":"x","f":1}""", """{"orders":[{"a":[{"b":"x","c":{"d":1}}],"e":[3]},4],"f":1}""")]
    [InlineData("""{"orders":[[1,[2 ]],3],"email":"x"}""", """{"orders":[[1,[2]],3]}""")]
    [InlineData("""{"orders":{"a":[ ],"b":{ }},"email":"x"}""", """{"orders":{"a":[],"b":{}}}""")]
    [InlineData("""{"orders":[[[ ]]],"email":"x"}""", """{"orders":[[[]]]}""")]
    // Whitespace before a colon is consumed with the name, so it is checked apart from the gaps.
    [InlineData("""{"orders":[{"sku" :"x"}],"email":"x"}""", """{"orders":[{"sku":"x"}]}""")]
    [InlineData("{\"orders\":[{\"a\":1,\"sku\"\t:\"x\",\"b\":2}],\"email\":\"x\"}", """{"orders":[{"a":1,"sku":"x","b":2}]}""")]
    // Below an unreachable container nothing matches, also after the hand-over; the root's path still does.
    [InlineData("""{"orders":[{"email":"\u0079","x":{"email":1}},{"email":2}],"email":"x"}""", """{"orders":[{"email":"y","x":{"email":1}},{"email":2}]}""")]
    [InlineData("""{"a":{"b":{"c":[1, {"email":3}]}},"email":"x","z":[{"email":4}]}""", """{"a":{"b":{"c":[1,{"email":3}]}},"z":[{"email":4}]}""")]
    public void The_walk_takes_over_an_unreachable_subtree_at_its_first_non_canonical_token(string input, string expected)
    {
        Assert.Equal(expected, Filter(input, out var status));
        Assert.Equal(JsonFilterStatus.Ok, status);
    }

    [Theory]
    [InlineData("""{"orders":[ 1,}""")]
    [InlineData("""{"orders":{"\u0061":1,"b":[2}}""")]
    [InlineData("""{"orders":[{"a":"\u0031"}]""")]
    public void Malformed_input_after_the_hand_over_is_still_refused(string input)
    {
        Filter(input, out var status);
        Assert.Equal(JsonFilterStatus.Malformed, status);
    }

    [Fact]
    public void A_lone_surrogate_inside_an_unreachable_subtree_is_still_refused()
    {
        Filter("""{"orders":[{"note":"\ud800"}],"email":"a@b"}""", out var status);
        Assert.Equal(JsonFilterStatus.Malformed, status);
    }

    [Theory]
    [InlineData("", "")]
    // Also once the walk has taken over (the whitespace stops the copy).
    [InlineData("[ 1,", "]")]
    public void Depth_inside_an_unreachable_subtree_is_still_limited(string before, string after)
    {
        var deep = "{\"orders\":" + before + new string('[', 70) + new string(']', 70) + after + "}";
        Filter(deep, out var status);
        Assert.Equal(JsonFilterStatus.TooDeep, status);
    }

    [Theory]
    // Reached only by paths this request allows: forwarded as they are, like a subtree no path reaches.
    [InlineData("""{"email":"a@b","contact":{"name":"N","phone":"1","x":[1,2]},"id":1}""", """{"contact":{"name":"N","phone":"1","x":[1,2]},"id":1}""")]
    // And canonicalised the same way when they are not plain.
    [InlineData("""{"contact":{"name" : "\u004e","phone":"1"},"email":"a@b"}""", """{"contact":{"name":"N","phone":"1"}}""")]
    [InlineData("{\"contact\":{\"😀\":1,\"name\":\"N\"},\"email\":\"a@b\"}", "{\"contact\":{\"\\uD83D\\uDE00\":1,\"name\":\"N\"}}")]
    public void Subtrees_only_allowed_paths_reach_come_out_as_the_walk_writes_them(string input, string expected)
    {
        Assert.Equal(expected, FilterWithAllowedContact(input, FieldAction.Strip, out var status, out var withheld));
        Assert.Equal(JsonFilterStatus.Ok, status);
        Assert.Equal(0b100UL, withheld);
    }

    [Theory]
    [InlineData("""{"contact":{"name":"\ud800"},"email":"a@b"}""")]
    [InlineData("""{"contact":{"x":[{"y":"\ud800"}]}}""")]
    [InlineData("""{"contact":{"name":"N",}}""")]
    [InlineData("""{"contact":{"name":"N"},"other":[1,}""")]
    [InlineData("{\"contact\":{\"x\":" + "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" + "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]" + "}}")]
    [InlineData("{\"contact\":{\"x\":[ 1," + "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" + "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]" + "]}}")]
    public void Whether_a_body_is_accepted_does_not_depend_on_the_consent(string input)
    {
        FilterWithAllowedContact(input, FieldAction.Allow, out var allowed, out _);
        FilterWithAllowedContact(input, FieldAction.Strip, out var stripped, out _);
        FilterWithAllowedContact(input, FieldAction.Block, out var blocked, out _);

        Assert.NotEqual(JsonFilterStatus.Ok, allowed);
        Assert.NotEqual(JsonFilterStatus.Blocked, allowed);
        Assert.Equal(allowed, stripped);
        Assert.Equal(allowed, blocked);
    }

    /// <summary>$.contact.name and $.contact.phone allowed, $.email under <paramref name="emailAction"/>.</summary>
    private static string FilterWithAllowedContact(string json, FieldAction emailAction, out JsonFilterStatus status, out ulong withheld)
    {
        var filter = FilterHarness.Filter(false, 64, "$.contact.name", "$.contact.phone", "$.email");
        var output = new ArrayBufferWriter<byte>();
        var result = filter.Filter(Encoding.UTF8.GetBytes(json), [FieldAction.Allow, FieldAction.Allow, emailAction], output, Pseudonymizer, "s"u8);
        status = result.Status;
        withheld = result.WithheldMask;
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static string Filter(string json, out JsonFilterStatus status)
    {
        Assert.True(JsonPath.TryParse("$.email", out var path, out _));
        var filter = new JsonFieldFilter([path!], caseSensitive: false, maxDepth: 64);
        var output = new ArrayBufferWriter<byte>();
        var result = filter.Filter(Encoding.UTF8.GetBytes(json), [FieldAction.Strip], output, Pseudonymizer, "s"u8);
        status = result.Status;
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
