using ConsentGateway.Enforcement;

namespace ConsentGateway.Tests.Enforcement;

public class JsonPathTests
{
    [Theory]
    [InlineData("$.email", "C:email")]
    [InlineData("$.a.b", "C:a C:b")]
    [InlineData("$.addresses[*].street", "C:addresses * C:street")]
    [InlineData("$..phone", "D:phone")]
    [InlineData("$..contact.email", "D:contact C:email")]
    [InlineData("$.orders[*].items[*].sku", "C:orders * C:items * C:sku")]
    [InlineData("$['first.name']", "C:first.name")]
    [InlineData("$[\"x y\"].z", "C:x y C:z")]
    [InlineData("$['it\\'s']", "C:it's")]
    [InlineData("$['a\\\\b']", "C:a\\b")]
    [InlineData("$['']", "C:")]
    [InlineData("$..['dotted.name']", "D:dotted.name")]
    [InlineData("$[*]", "*")]
    [InlineData("$[*][*].x", "* * C:x")]
    [InlineData("$.émail", "C:émail")]
    [InlineData("$.user_id-2", "C:user_id-2")]
    public void Parses_every_form(string text, string expected)
    {
        Assert.True(JsonPath.TryParse(text, out var path, out var error), error);
        Assert.Equal(text, path.Text);
        Assert.Equal(text, path.ToString());
        var rendered = string.Join(' ', path.Segments.Select(s => s.Kind switch
        {
            JsonPathSegmentKind.Child => "C:" + s.Name,
            JsonPathSegmentKind.Descendant => "D:" + s.Name,
            _ => "*",
        }));
        Assert.Equal(expected, rendered);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("email", "'$'")]
    [InlineData("$", "'$' alone")]
    [InlineData("$.", "expected a property name after '.' at position 2")]
    [InlineData("$..", "expected a property name after '..' at position 3")]
    [InlineData("$.a.", "at position 4")]
    [InlineData("$.a..", "at position 5")]
    [InlineData("$.*", "not supported")]
    [InlineData("$..*", "not supported")]
    [InlineData("$[", "unterminated")]
    [InlineData("$[0]", "indices are not supported")]
    [InlineData("$[*", "expected ']'")]
    [InlineData("$['a'", "expected ']'")]
    [InlineData("$['a", "unterminated")]
    [InlineData("$['a']x", "unexpected 'x'")]
    [InlineData("$.a b", "unexpected ' '")]
    [InlineData("$[a]", "expected a quoted name")]
    [InlineData("$..[*]", "not supported")]
    [InlineData("$.a]", "unexpected ']'")]
    public void Rejects_invalid_paths_with_a_message(string text, string fragment)
    {
        Assert.False(JsonPath.TryParse(text, out var path, out var error));
        Assert.Null(path);
        Assert.Contains(fragment, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_a_name_with_a_lone_surrogate()
    {
        Assert.False(JsonPath.TryParse("$['a\ud800']", out _, out var error));
        Assert.Contains("unpaired surrogate", error, StringComparison.Ordinal);
        Assert.False(JsonPath.TryParse("$.a\udc00", out _, out error));
        Assert.Contains("unpaired surrogate", error, StringComparison.Ordinal);
    }
}
