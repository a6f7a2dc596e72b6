using System.Text;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Tests.Enforcement;

public class JsonPointerReaderTests
{
    private static (JsonPointerStatus Status, string? Value) Read(string json, string pointer, bool caseSensitive = false, int maxDepth = 64) =>
        Read(Encoding.UTF8.GetBytes(json), pointer, caseSensitive, maxDepth);

    private static (JsonPointerStatus Status, string? Value) Read(byte[] json, string pointer, bool caseSensitive = false, int maxDepth = 64)
    {
        var status = JsonPointerReader.TryRead(json, pointer, caseSensitive, maxDepth, out var value);
        if (status != JsonPointerStatus.Found)
        {
            Assert.Null(value);
        }

        return (status, value);
    }

    [Theory]
    [InlineData("""{"customer":{"id":"c-1","name":"x"},"other":{"id":"no"}}""", "/customer/id", "c-1")]
    [InlineData("""{"id":9007199254740993}""", "/id", "9007199254740993")]
    [InlineData("""{"id":-1.5e400}""", "/id", "-1.5e400")]
    [InlineData("""{"id":"\u0061bc\ud83d\ude00"}""", "/id", "abc😀")]
    [InlineData("""{"a/b":{"m~n":"x"}}""", "/a~1b/m~0n", "x")]
    [InlineData("""{"~1":"literal"}""", "/~01", "literal")]
    [InlineData("""{"":"empty"}""", "/", "empty")]
    [InlineData("""{"items":[{"id":"a"},{"id":"b"}]}""", "/items/1/id", "b")]
    [InlineData("""[["x","y"]]""", "/0/1", "y")]
    [InlineData("""{"0":"zero"}""", "/0", "zero")]
    [InlineData("\"root\"", "", "root")]
    [InlineData("""{"\u0069d":"escaped-name"}""", "/id", "escaped-name")]
    [InlineData("""{"ID":"upper"}""", "/id", "upper")]
    [InlineData("""{"Customer":{"Id":"mixed"}}""", "/customer/id", "mixed")]
    [InlineData("""{"before":[{"id":"x"},{"id":"y"}],"id":"top","after":{"id":{"id":1}}}""", "/id", "top")]
    public void Finds_the_target(string json, string jsonPointer, string expected)
    {
        Assert.Equal((JsonPointerStatus.Found, expected), Read(json, jsonPointer));
    }

    [Theory]
    [InlineData("""{"customer":{"name":"x"}}""", "/customer/id")]
    [InlineData("""{"customer":"flat"}""", "/customer/id")]
    [InlineData("""{"items":[{"id":"a"}]}""", "/items/1/id")]
    [InlineData("""{"items":[{"id":"a"},{"id":"b"}]}""", "/items/01/id")]
    [InlineData("""{"items":[{"id":"a"}]}""", "/items/-/id")]
    [InlineData("""{"items":[{"id":"a"}]}""", "/items/x/id")]
    [InlineData("""{"x":{"id":"nested"}}""", "/id")]
    [InlineData("{}", "/id")]
    public void Reports_missing_targets(string json, string jsonPointer)
    {
        Assert.Equal(JsonPointerStatus.Missing, Read(json, jsonPointer).Status);
    }

    [Theory]
    [InlineData("""{"id":"a","id":"b"}""")]
    [InlineData("""{"id":"a","id":"a"}""")]
    [InlineData("""{"id":"a","ID":"b"}""")]
    [InlineData("""{"id":"a","\u0069d":"b"}""")]
    [InlineData("""{"id":"a","id":{"x":1}}""")]
    public void Refuses_to_pick_between_duplicates(string json)
    {
        Assert.Equal(JsonPointerStatus.Ambiguous, Read(json, "/id").Status);
    }

    [Fact]
    public void A_duplicated_parent_is_ambiguous_even_when_only_one_holds_the_target()
    {
        Assert.Equal(JsonPointerStatus.Ambiguous, Read("""{"customer":{"id":"a"},"Customer":{}}""", "/customer/id").Status);
        Assert.Equal(JsonPointerStatus.Ambiguous, Read("""{"customer":{"id":"a"},"customer":{"id":"b"}}""", "/customer/id").Status);
    }

    [Fact]
    public void Case_sensitive_mode_only_sees_exact_names()
    {
        Assert.Equal((JsonPointerStatus.Found, "a"), Read("""{"id":"a","ID":"b","Id":{"x":1}}""", "/id", caseSensitive: true));
        Assert.Equal(JsonPointerStatus.Missing, Read("""{"ID":"b"}""", "/id", caseSensitive: true).Status);
    }

    [Theory]
    [InlineData("""{"id":{"v":1}}""")]
    [InlineData("""{"id":["a"]}""")]
    [InlineData("""{"id":true}""")]
    [InlineData("""{"id":null}""")]
    public void Rejects_non_scalar_targets(string json)
    {
        Assert.Equal(JsonPointerStatus.NotAScalar, Read(json, "/id").Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("""{"id":"a"} x""")]
    [InlineData("""{"id":"a"}{}""")]
    [InlineData("""{"id":"a",}""")]
    [InlineData("""{"id":"a","x":[1,}""")]
    [InlineData("""{"id":"a","x":"\ud800"}""")]
    [InlineData("""{"\udc00":1,"id":"a"}""")]
    [InlineData("""{"id":"\ud800"}""")]
    [InlineData("""{"id":"a"}""", 0)]
    public void Rejects_malformed_bodies(string json, int extra = -1)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        if (extra == 0)
        {
            bytes = [0xEF, 0xBB, 0xBF, .. bytes];
        }

        Assert.Equal(JsonPointerStatus.Malformed, Read(bytes, "/id").Status);
    }

    [Fact]
    public void Rejects_invalid_utf8_and_excessive_depth()
    {
        Assert.Equal(JsonPointerStatus.Malformed, Read([.. "{\"id\":\"a\",\"x\":\""u8, 0xFF, .. "\"}"u8], "/id").Status);
        var deep = "{\"id\":\"a\",\"x\":" + new string('[', 10) + new string(']', 10) + "}";
        Assert.Equal(JsonPointerStatus.Malformed, Read(deep, "/id", maxDepth: 10).Status);
        Assert.Equal((JsonPointerStatus.Found, "a"), Read(deep, "/id", maxDepth: 11));
    }

    [Theory]
    [InlineData("id")]
    [InlineData("/a~2")]
    [InlineData("/a~")]
    public void Rejects_invalid_pointers(string jsonPointer)
    {
        Assert.False(JsonPointer.TryParse(jsonPointer, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
        Assert.Throws<ArgumentException>(() => JsonPointerReader.TryRead("{}"u8, jsonPointer, false, 64, out _));
    }
}
