using ConsentGateway.Enforcement;
using Microsoft.AspNetCore.Http;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>Spellings of a header name that servers fold together ('-' and '_'), found without enumerating the headers.</summary>
public class HeaderSpellingTests
{
    [Fact]
    public void Variants_are_every_dash_and_underscore_spelling_and_nothing_else()
    {
        var variants = HeaderSpelling.Variants("X-Subject_Id");

        Assert.NotNull(variants);
        Assert.Equal(["X-Subject-Id", "X_Subject-Id", "X-Subject_Id", "X_Subject_Id"], variants);
        Assert.All(variants, v => Assert.True(HeaderSpelling.Same(v, "X-Subject-Id")));
        Assert.Equal(["Purpose"], HeaderSpelling.Variants("Purpose")!);
    }

    [Fact]
    public void Names_with_more_separators_than_the_limit_fall_back_to_enumerating()
    {
        Assert.Null(HeaderSpelling.Variants("a-b-c-d-e-f"));

        var headers = new HeaderDictionary { ["a_b-c-d-e_f"] = "1", ["A-B-C-D-E-F"] = "2", ["a-b"] = "3" };
        Assert.Equal(["a_b-c-d-e_f", "A-B-C-D-E-F"], HeaderSpelling.Present(headers, "a-b-c-d-e-f"));
    }

    [Fact]
    public void Present_finds_each_spelling_sent_in_any_case()
    {
        var headers = new HeaderDictionary { ["x-device-id"] = "1", ["X_DEVICE_ID"] = "2", ["X-Device-Idx"] = "3" };

        var present = HeaderSpelling.Present(headers, "X-Device-Id");

        Assert.NotNull(present);
        Assert.Equal(2, present.Count);
        Assert.All(present, name => Assert.True(headers.ContainsKey(name)));
        Assert.Null(HeaderSpelling.Present(headers, "X-Other"));
    }
}
