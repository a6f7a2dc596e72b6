using ConsentGateway.Enforcement;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>Which Content-Type values the gateway inspects as JSON (SPEC §4: JSON media types in UTF-8).</summary>
public class JsonBodyMediaTypeTests
{
    [Theory]
    // The spellings settled without parsing, in any case.
    [InlineData("application/json", true)]
    [InlineData("APPLICATION/JSON", true)]
    [InlineData("application/json; charset=utf-8", true)]
    [InlineData("Application/JSON; Charset=UTF-8", true)]
    // Everything else goes through the full parser.
    [InlineData("application/json;charset=utf-8", true)]
    [InlineData("application/json; charset=\"utf-8\"", true)]
    [InlineData("application/problem+json", true)]
    [InlineData("text/json", true)]
    [InlineData("application/json; charset=utf-8; q=1", true)]
    [InlineData("application/json; charset=iso-8859-1", false)]
    [InlineData("application/json; charset=utf-16", false)]
    [InlineData("application/jsonx", false)]
    [InlineData("application/json-seq", false)]
    [InlineData("text/plain", false)]
    [InlineData("application/json, text/html", false)]
    [InlineData("application/json; charset=utf-8 trailing", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Json_media_types_in_utf8_are_inspectable(string? contentType, bool expected) =>
        Assert.Equal(expected, JsonBody.IsInspectable(contentType));
}
