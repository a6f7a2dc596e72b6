using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using ConsentGateway.Enforcement;
using Xunit;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>
/// <see cref="JsonTokenizer.TrySkipCompactContainer"/> against its definition, checked token by token:
/// it must accept a container exactly when reading it with <see cref="JsonTokenizer.Read"/> succeeds,
/// finds it compact and escape-free and opens nothing at the depth limit, and must then stop where that
/// reading stops. Run at every container of generated documents and of mutants of them.
/// </summary>
public sealed class JsonTokenizerCompactTests
{
    private const int MaxDepth = 5;

    [Theory]
    [InlineData("{}", true)]
    [InlineData("[]", true)]
    [InlineData("{\"a\":1,\"b\":[true,false,null,\"x\",-0.5e+3,{}]}", true)]
    [InlineData("{\"a\": 1}", false)]
    [InlineData("{\"a\" :1}", false)]
    [InlineData("[1 ,2]", false)]
    [InlineData("[1,2 ]", false)]
    [InlineData("[\"a\\n\"]", false)]
    [InlineData("{\"a\\u0041\":1}", false)]
    [InlineData("[[[[[[1]]]]]]", false)]
    [InlineData("[[[[[1]]]]]", true)]
    [InlineData("[1,]", false)]
    [InlineData("[01]", false)]
    [InlineData("{\"a\":1]", false)]
    [InlineData("[tru]", false)]
    [InlineData("[\"a\u0001\"]", false)]
    [InlineData("{\"é\":1}", false)]
    [InlineData("{\"a\u007f\":1}", false)]
    [InlineData("[\"é\u007f😀\"]", true)]
    public void Skips_exactly_the_compact_plain_containers(string json, bool expected)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.Equal(expected, SkipAgreesWithTokens(bytes, out var failure) is { } skipped && skipped);
        Assert.Null(failure);
    }

    [Fact]
    public void Agrees_with_reading_token_by_token_on_generated_documents_and_their_mutants()
    {
        var random = new Random(20261129);
        int skipped = 0, declined = 0;
        for (int i = 0; i < 4000; i++)
        {
            var doc = Encoding.UTF8.GetBytes(Generate(random, 0));
            Check(doc, ref skipped, ref declined);
            for (int m = 0; m < 4; m++)
            {
                var mutant = Mutate(random, doc);
                if (mutant.Length > 0 && Utf8.IsValid(mutant))
                {
                    Check(mutant, ref skipped, ref declined);
                }
            }
        }

        // Both outcomes must occur often, or the generator has degenerated and proves nothing.
        Assert.True(skipped > 1000, $"skipped {skipped}");
        Assert.True(declined > 1000, $"declined {declined}");
    }

    [Fact]
    public void Declined_attempts_stop_once_they_have_read_as_much_as_the_document()
    {
        // Sixty nested arrays around 20 KB of compact numbers, with one space just before the innermost
        // close: every level's attempt reads to that space and is declined. Without a bound the walk
        // would read the 20 KB once per level (1.2 MB); with it, about twice.
        const int Levels = 60;
        var inner = string.Join(",", Enumerable.Repeat("1234567", 2500));
        var json = Encoding.UTF8.GetBytes(new string('[', Levels) + inner + " " + new string(']', Levels));
        var tokenizer = new JsonTokenizer(json, new byte[Levels + 1]);
        int attempts = 0;
        while (tokenizer.Read())
        {
            if (tokenizer.TokenType == JsonTokenType.StartArray)
            {
                attempts++;
                Assert.False(tokenizer.TrySkipCompactContainer(Levels + 1));
            }
        }

        Assert.Equal(Levels, attempts);
        Assert.InRange(tokenizer.DeclinedBytes, json.Length, 2 * json.Length);
    }

    private static void Check(byte[] doc, ref int skipped, ref int declined)
    {
        var verdict = SkipAgreesWithTokens(doc, out var failure);
        Assert.True(failure is null, failure);
        if (verdict == true)
        {
            skipped++;
        }
        else if (verdict == false)
        {
            declined++;
        }
    }

    /// <summary>
    /// Reads <paramref name="doc"/> token by token and, at each container start, compares the fast path
    /// (on a copy of the tokeniser) with the definition. Returns the outermost container's verdict (null
    /// when the document does not start with one); <paramref name="failure"/> describes a disagreement.
    /// </summary>
    private static bool? SkipAgreesWithTokens(byte[] doc, out string? failure)
    {
        failure = null;
        bool? first = null;
        var containers = new byte[MaxDepth + 1];
        var tokenizer = new JsonTokenizer(doc, containers);
        try
        {
            while (tokenizer.Read())
            {
                if (tokenizer.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
                {
                    continue;
                }

                var fast = tokenizer;
                bool accepted = fast.TrySkipCompactContainer(MaxDepth);
                var slow = new JsonTokenizer(doc, new byte[MaxDepth + 1]);
                int expectedEnd = Definition(doc, tokenizer.TokenStartIndex, ref slow);
                first ??= accepted;
                if (accepted != expectedEnd >= 0 || (accepted && fast.BytesConsumed != expectedEnd))
                {
                    failure = $"at {tokenizer.TokenStartIndex} fast {accepted}/{fast.BytesConsumed}, tokens {expectedEnd}: {Escape(doc)}";
                    return first;
                }

                if (accepted && (fast.TokenType is not (JsonTokenType.EndObject or JsonTokenType.EndArray)
                    || fast.CurrentDepth != tokenizer.CurrentDepth || fast.TokenStartIndex != expectedEnd - 1))
                {
                    failure = $"state after the skip differs at {tokenizer.TokenStartIndex}: {Escape(doc)}";
                    return first;
                }
            }
        }
        catch (JsonException)
        {
            // The document is malformed somewhere; every container before that point was compared.
        }

        return first;
    }

    /// <summary>
    /// The definition: read the container starting at <paramref name="start"/> token by token (with a fresh
    /// tokeniser positioned there by reading from the beginning); the index after its end when it is well
    /// formed, compact, unescaped and within the depth limit, else -1.
    /// </summary>
    private static int Definition(byte[] doc, int start, ref JsonTokenizer t)
    {
        try
        {
            while (t.Read() && t.TokenStartIndex != start)
            {
            }

            int depth = t.CurrentDepth;
            int previousEnd = start;
            while (true)
            {
                int gap = t.TokenStartIndex - previousEnd;
                if (gap > 1 || (gap == 1 && doc[previousEnd] is not ((byte)',' or (byte)':')))
                {
                    return -1;
                }

                previousEnd = t.BytesConsumed;
                switch (t.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray when t.CurrentDepth >= MaxDepth:
                    case JsonTokenType.String or JsonTokenType.PropertyName when t.ValueIsEscaped:
                    case JsonTokenType.PropertyName when !IsPrintableAscii(t.ValueSpan):
                    case JsonTokenType.PropertyName when t.BytesConsumed != t.TokenStartIndex + t.ValueSpan.Length + 3:
                        return -1;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray when t.CurrentDepth == depth:
                        return t.BytesConsumed;
                }

                if (!t.Read())
                {
                    return -1;
                }
            }
        }
        catch (JsonException)
        {
            return -1;
        }
    }

    /// <summary>What the walk forwards as it is: a name of printable ASCII only (it re-escapes the rest).</summary>
    internal static bool IsPrintableAscii(ReadOnlySpan<byte> name) => !name.ContainsAnyExceptInRange((byte)0x20, (byte)0x7E);

    internal static string Generate(Random random, int depth)
    {
        int pick = depth >= 7 ? random.Next(4) : random.Next(7);
        string ws = random.Next(12) == 0 ? " " : "";
        return pick switch
        {
            0 => "\"" + Text(random) + "\"",
            1 => random.Next(3) switch { 0 => "true", 1 => "false", _ => "null" },
            2 => Number(random),
            3 => random.Next(2) == 0 ? "0" : "-1.5e2",
            4 or 5 => "{" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => ws + "\"" + Text(random) + "\"" + ws + ":" + Generate(random, depth + 1))) + ws + "}",
            _ => "[" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => ws + Generate(random, depth + 1))) + "]",
        };
    }

    private static string Text(Random random) => random.Next(11) switch
    {
        0 => "a\\n\\u00e9",
        1 => "é漢😀",
        2 => "",
        3 => "del\u007f",
        _ => new string('k', random.Next(1, 20)),
    };

    private static string Number(Random random) => random.Next(5) switch
    {
        0 => "0",
        1 => "-12",
        2 => "3.25",
        3 => "1e10",
        _ => "-0.5E-3",
    };

    internal static byte[] Mutate(Random random, byte[] doc)
    {
        const string Alphabet = "{}[],:\"\\ 0123456789-+.eEtrufalsn\t\n\u0001";
        var bytes = doc.ToList();
        int at = random.Next(bytes.Count);
        switch (random.Next(4))
        {
            case 0:
                bytes.RemoveAt(at);
                break;
            case 1:
                bytes.Insert(at, (byte)Alphabet[random.Next(Alphabet.Length)]);
                break;
            case 2:
                bytes[at] = (byte)Alphabet[random.Next(Alphabet.Length)];
                break;
            default:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
        }

        return [.. bytes];
    }

    internal static string Escape(byte[] doc) => JsonSerializer.Serialize(Encoding.UTF8.GetString(doc));
}
