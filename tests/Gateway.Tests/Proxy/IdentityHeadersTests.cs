using ConsentGateway.Enforcement;
using ConsentGateway.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace ConsentGateway.Tests.Proxy;

/// <summary>
/// The identity headers found in one pass over a request's header names must read exactly as looking up
/// every '-'/'_' spelling of each name did: the same value, the same spelling, the same refusals.
/// </summary>
public class IdentityHeadersTests
{
    private const string Key = "X-Api-Key";
    private const string Purpose = "X-Purpose";
    private const string Subject = "X-Subject-Id";

    [Fact]
    public void Each_name_is_found_in_the_spelling_and_case_it_came_in()
    {
        var headers = new HeaderDictionary
        {
            ["x_api-KEY"] = "k",
            ["X_PURPOSE"] = " marketing ",
            ["x-subject_id"] = "c-1",
            ["X-Api-Keys"] = "not the key",
            ["Host"] = "example",
        };

        var found = IdentityHeaders.Find(headers, Key, Purpose, Subject);

        Assert.Equal(SingleValue.Present, found.ApiKey.Read(out var key));
        Assert.Equal(("k", "x_api-KEY"), (key, found.ApiKey.Spelling));
        Assert.Equal(SingleValue.Present, found.Purpose.Read(out var purpose));
        Assert.Equal("marketing", purpose);
        Assert.Equal(SingleValue.Present, found.Subject.Read(out var subject));
        Assert.Equal("c-1", subject);
    }

    [Fact]
    public void Two_spellings_of_one_name_are_ambiguous_and_name_no_spelling()
    {
        var headers = new HeaderDictionary { ["X-Subject-Id"] = "a", ["X_Subject_Id"] = "b", ["X-Api-Key"] = "k" };

        var found = IdentityHeaders.Find(headers, Key, Purpose, Subject);

        Assert.Equal(SingleValue.Ambiguous, found.Subject.Read(out var subject));
        Assert.Equal(string.Empty, subject);
        Assert.Null(found.Subject.Spelling);
        Assert.Equal(SingleValue.Missing, found.Purpose.Read(out _));
        Assert.Equal(SingleValue.Present, found.ApiKey.Read(out _));
    }

    [Fact]
    public void Three_spellings_stay_ambiguous()
    {
        var headers = new HeaderDictionary { ["X-Subject-Id"] = "a", ["X_Subject-Id"] = "a", ["x-subject_id"] = "a" };

        var found = IdentityHeaders.Find(headers, Key, Purpose, Subject);

        Assert.Equal(SingleValue.Ambiguous, found.Subject.Read(out _));
        Assert.Null(found.Subject.Spelling);
    }

    [Fact]
    public void Names_the_route_does_not_read_from_headers_are_not_looked_for()
    {
        var headers = new HeaderDictionary { ["X-Api-Key"] = "k", ["X-Purpose"] = "p", ["X-Subject-Id"] = "s" };

        var found = IdentityHeaders.Find(headers, Key, purposeHeader: null, subjectHeader: null);

        Assert.Equal(SingleValue.Missing, found.Purpose.Read(out _));
        Assert.Equal(SingleValue.Missing, found.Subject.Read(out _));
        Assert.Equal(SingleValue.Present, found.ApiKey.Read(out _));
    }

    [Fact]
    public void A_list_a_blank_or_a_repeated_line_is_refused_as_before()
    {
        var headers = new HeaderDictionary
        {
            ["X-Api-Key"] = new StringValues(["k1", "k2"]),
            ["X-Purpose"] = "  ",
            ["X-Subject-Id"] = "a,b",
        };

        var found = IdentityHeaders.Find(headers, Key, Purpose, Subject);

        Assert.Equal(SingleValue.Ambiguous, found.ApiKey.Read(out _));
        Assert.Equal(SingleValue.Missing, found.Purpose.Read(out _));
        Assert.Equal(SingleValue.Ambiguous, found.Subject.Read(out _));
    }

    /// <summary>
    /// Random header sets drawn from every spelling, case and near miss of the three names (and names with
    /// more separators than <see cref="HeaderSpelling.MaxSeparators"/>): the one pass agrees with the
    /// lookups it replaced on every name, every time.
    /// </summary>
    [Theory]
    [InlineData("X-Api-Key", "X-Purpose", "X-Subject-Id")]
    [InlineData("X-Api-Key", "Purpose", "a-b-c-d-e-f")]
    [InlineData("X-Api-Key", "x_api_key", "Subject")]
    public void One_pass_reads_what_every_spelling_looked_up_read(string key, string purpose, string subject)
    {
        var random = new Random(4242);
        string[] names = [key, purpose, subject, "Host", "Content-Type", key + "s", "X-Api-Ke"];
        string[] values = ["v", "w", "", " ", "a,b", "  x  "];
        for (var run = 0; run < 3000; run++)
        {
            var headers = new HeaderDictionary();
            var count = random.Next(0, 7);
            for (var i = 0; i < count; i++)
            {
                var name = Respell(names[random.Next(names.Length)], random);
                headers[name] = random.Next(6) == 0
                    ? new StringValues([values[random.Next(values.Length)], values[random.Next(values.Length)]])
                    : values[random.Next(values.Length)];
            }

            var found = IdentityHeaders.Find(headers, key, purpose, subject);

            AssertSame(ByLookups(headers, key), found.ApiKey, headers);
            AssertSame(ByLookups(headers, purpose), found.Purpose, headers);
            AssertSame(ByLookups(headers, subject), found.Subject, headers);
        }
    }

    private static void AssertSame((SingleValue Status, string Value, string? Spelling) expected, IdentityHeader actual, HeaderDictionary headers)
    {
        var status = actual.Read(out var value);
        var context = string.Join("; ", headers.Select(h => $"{h.Key}: {h.Value}"));
        Assert.True(expected.Status == status, $"{expected.Status} expected, {status} read from {context}");
        Assert.Equal(expected.Value, value);
        if (status == SingleValue.Present)
        {
            // The lookups named the spelling they built from the policy's name; the one pass names it as sent.
            Assert.Equal(expected.Spelling, actual.Spelling, ignoreCase: true);
        }
    }

    private static string Respell(string name, Random random)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] is '-' or '_')
            {
                chars[i] = random.Next(2) == 0 ? '-' : '_';
            }
            else if (random.Next(3) == 0)
            {
                chars[i] = char.IsUpper(chars[i]) ? char.ToLowerInvariant(chars[i]) : char.ToUpperInvariant(chars[i]);
            }
        }

        return new string(chars);
    }

    /// <summary>What the gateway did before the one pass: look up each spelling; a second one present is ambiguous.</summary>
    private static (SingleValue Status, string Value, string? Spelling) ByLookups(IHeaderDictionary headers, string name)
    {
        var spellings = HeaderSpelling.Present(headers, name);
        if (spellings is null)
        {
            return (SingleValue.Missing, string.Empty, null);
        }

        if (spellings.Count > 1)
        {
            return (SingleValue.Ambiguous, string.Empty, null);
        }

        var status = SingleValueHeader.Single(headers[spellings[0]], out var value);
        return (status, value, spellings[0]);
    }
}
