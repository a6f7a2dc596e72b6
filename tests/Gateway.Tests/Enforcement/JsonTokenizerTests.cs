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
/// Differential tests: <see cref="JsonTokenizer"/> against <see cref="Utf8JsonReader"/> (default options,
/// one final buffer). Both must accept the same documents with the same token streams (type, start, raw
/// value, escaping, depth, bytes consumed, decoded string), or both must reject.
/// </summary>
public class JsonTokenizerTests
{
    private const int DefaultDepth = 64;

    [Theory]
    // Numbers.
    [InlineData("0", true)]
    [InlineData("-0", true)]
    [InlineData("01", false)]
    [InlineData("00", false)]
    [InlineData("-", false)]
    [InlineData("-01", false)]
    [InlineData("1.", false)]
    [InlineData("1.e3", false)]
    [InlineData(".5", false)]
    [InlineData("1.5e", false)]
    [InlineData("1e+", false)]
    [InlineData("1.5e+", false)]
    [InlineData("1e3.5", false)]
    [InlineData("1E-2", true)]
    [InlineData("1e5", true)]
    [InlineData("-1.5E+3", true)]
    [InlineData("[-0.0e-0]", true)]
    [InlineData("+1", false)]
    [InlineData("1.0e10", true)]
    [InlineData("123456789012345678901234567890", true)]
    [InlineData("123abc", false)]
    [InlineData("[1 2]", false)]
    [InlineData("[1true]", false)]
    [InlineData("[1-2]", false)]
    [InlineData("[01]", false)]
    [InlineData("{\"a\":01}", false)]
    [InlineData("[0,-0,1,-1,1.5]", true)]
    [InlineData("0x10", false)]
    [InlineData("Infinity", false)]
    [InlineData("-Infinity", false)]
    [InlineData("NaN", false)]
    [InlineData("- 1", false)]
    [InlineData("--1", false)]
    [InlineData("1-", false)]
    // Literals.
    [InlineData("true", true)]
    [InlineData("false", true)]
    [InlineData("null", true)]
    [InlineData("tru", false)]
    [InlineData("truex", false)]
    [InlineData("nul", false)]
    [InlineData("nulll", false)]
    [InlineData("fals", false)]
    [InlineData("[tru]", false)]
    [InlineData("[true,false,null]", true)]
    [InlineData("[true false]", false)]
    [InlineData("True", false)]
    [InlineData("NULL", false)]
    // Strings.
    [InlineData("\"\"", true)]
    [InlineData("\"a\u0000b\"", false)]
    [InlineData("\"a\u001Fb\"", false)]
    [InlineData("\"a\tb\"", false)]
    [InlineData("\"a\nb\"", false)]
    [InlineData("\"a\u007Fb\"", true)]
    [InlineData("\"a\u2028b\"", true)]
    [InlineData("\"é😀漢\"", true)]
    [InlineData("\"\\\"\"", true)]
    [InlineData("\"\\\\\"", true)]
    [InlineData("\"\\/\"", true)]
    [InlineData("\"\\b\\f\\n\\r\\t\"", true)]
    [InlineData("\"\\u0041\"", true)]
    [InlineData("\"\\u00e9\"", true)]
    [InlineData("\"\\uD83D\\uDE00\"", true)]
    [InlineData("\"\\uDE00\\uD83D\"", true)]
    [InlineData("\"\\ud800\"", true)]
    [InlineData("\"\\u12\"", false)]
    [InlineData("\"\\u12G4\"", false)]
    [InlineData("\"\\u\"", false)]
    [InlineData("\"\\U0041\"", false)]
    [InlineData("\"\\x\"", false)]
    [InlineData("\"\\'\"", false)]
    [InlineData("\"abc", false)]
    [InlineData("\"abc\\", false)]
    [InlineData("\"\\\"", false)]
    [InlineData("\"", false)]
    [InlineData("'a'", false)]
    [InlineData("{\"a\\nb\":1}", true)]
    [InlineData("{\"\\ud800\":1}", true)]
    [InlineData("{\"a\u0001\":1}", false)]
    [InlineData("[\"a\",\"b\\u0000\"]", true)]
    // Structure.
    [InlineData("{}", true)]
    [InlineData("[]", true)]
    [InlineData("[null]", true)]
    [InlineData("{\"\":\"\"}", true)]
    [InlineData("{\"a\":1,\"a\":2}", true)]
    [InlineData("{\"a\":[1,{\"b\":null}]}", true)]
    [InlineData("{\"a\":{\"b\":{\"c\":[]}}}", true)]
    [InlineData("[[[[]]],{},[{}]]", true)]
    [InlineData("{\"a\":1,}", false)]
    [InlineData("[1,]", false)]
    [InlineData("[,1]", false)]
    [InlineData("[,]", false)]
    [InlineData("{,}", false)]
    [InlineData("[1,,2]", false)]
    [InlineData("{\"a\":1,,\"b\":2}", false)]
    [InlineData("{\"a\" 1}", false)]
    [InlineData("{\"a\":}", false)]
    [InlineData("{\"a\",1}", false)]
    [InlineData("{\"a\"::1}", false)]
    [InlineData("{:1}", false)]
    [InlineData("{\"a\":1 \"b\":2}", false)]
    [InlineData("[\"a\":1]", false)]
    [InlineData("{1:2}", false)]
    [InlineData("{'a':1}", false)]
    [InlineData("{\"a\":1}{", false)]
    [InlineData("{\"a\":1} x", false)]
    [InlineData("{\"a\":1}\u0000", false)]
    [InlineData("[1]x", false)]
    [InlineData("[1] ", true)]
    [InlineData("\"a\" \"b\"", false)]
    [InlineData("1 2", false)]
    [InlineData(",1", false)]
    [InlineData("1,", false)]
    [InlineData("/*c*/1", false)]
    [InlineData("1//c", false)]
    [InlineData("", false)]
    [InlineData(" ", false)]
    [InlineData(" \t\r\n", false)]
    [InlineData("[}", false)]
    [InlineData("{]", false)]
    [InlineData("[1", false)]
    [InlineData("[1,2", false)]
    [InlineData("[[]", false)]
    [InlineData("[]]", false)]
    [InlineData("[", false)]
    [InlineData("{", false)]
    [InlineData("]", false)]
    [InlineData("}", false)]
    [InlineData("{\"a\"", false)]
    [InlineData("{\"a\":", false)]
    [InlineData("{\"a\":1", false)]
    // Whitespace: only space, tab, CR and LF.
    [InlineData(" \t\r\n[ \t\r\n1 \t\r\n, \t\r\n2 \t\r\n] \t\r\n", true)]
    [InlineData("{ \"a\" : 1 , \"b\" : [ ] }", true)]
    [InlineData("{\"a\"\t:\n1\r,\"b\":2}", true)]
    [InlineData("[1,\f2]", false)]
    [InlineData("[1,\v2]", false)]
    [InlineData("\f1", false)]
    [InlineData("1\v", false)]
    [InlineData("\u00A01", false)]
    [InlineData("[1,\u20282]", false)]
    public void Tricky_inputs(string text, bool accepted)
    {
        var json = Encoding.UTF8.GetBytes(text);
        Assert.True(Utf8.IsValid(json));
        var (tokenizer, reader) = AssertEquivalent(json, DefaultDepth);
        Assert.True(accepted == tokenizer.Accepted, $"tokenizer {(tokenizer.Accepted ? "accepted" : "rejected")} {Show(json)}");
        Assert.True(accepted == reader.Accepted, $"reader {(reader.Accepted ? "accepted" : "rejected")} {Show(json)}");
        if (accepted)
        {
            Assert.NotEmpty(tokenizer.Tokens);
        }
    }

    [Theory]
    [InlineData("\"\\uD83D\\uDE00\"", "F09F9880")]
    [InlineData("\"\\u00e9\\n\\/\"", "C3A90A2F")]
    [InlineData("\"plain\"", "706C61696E")]
    [InlineData("\"\\ud800\"", "!InvalidOperationException")]
    [InlineData("\"\\uDE00x\"", "!InvalidOperationException")]
    [InlineData("{\"\\udc00\":1}", "!InvalidOperationException")]
    public void CopyString_decodes_as_the_reader_does(string text, string expected)
    {
        var (tokenizer, _) = AssertEquivalent(Encoding.UTF8.GetBytes(text), DefaultDepth);
        Assert.True(tokenizer.Accepted);
        Assert.Equal(expected, tokenizer.Tokens.First(t => t.Copy is not null).Copy);
    }

    /// <summary>Whitespace of every kind in every gap between the tokens of one document.</summary>
    [Fact]
    public void Whitespace_in_every_gap()
    {
        string[] tokens = ["{", "\"a\"", ":", "[", "1", ",", "2.5", ",", "true", "]", ",", "\"b\"", ":", "{", "\"c\"", ":", "null", "}", "}"];
        (string Space, bool Legal)[] spaces =
            [(" ", true), ("\t", true), ("\r\n", true), (" \n\t\r ", true), ("\f", false), ("\v", false), ("\u00A0", false), ("\u2028", false), ("\u0000", false)];
        for (int gap = 0; gap <= tokens.Length; gap++)
        {
            foreach (var (space, legal) in spaces)
            {
                var json = Encoding.UTF8.GetBytes(string.Concat(tokens[..gap]) + space + string.Concat(tokens[gap..]));
                var (tokenizer, _) = AssertEquivalent(json, DefaultDepth);
                Assert.True(legal == tokenizer.Accepted, Show(json));
            }
        }
    }

    /// <summary>The string scan is vectorised: a stop byte at every offset of long and short strings.</summary>
    [Fact]
    public void String_stops_at_every_offset()
    {
        (string Stop, bool Legal)[] stops =
            [("\u0000", false), ("\u001F", false), ("\n", false), ("\\n", true), ("\\u00e9", true), ("\\q", false), ("\u007F", true), ("é", true), ("\"", false)];
        for (int length = 0; length <= 70; length++)
        {
            for (int at = 0; at <= length; at++)
            {
                foreach (var (stop, legal) in stops)
                {
                    var text = "{\"k\":\"" + new string('a', at) + stop + new string('a', length - at) + "\"}";
                    var json = Encoding.UTF8.GetBytes(text);
                    var (tokenizer, _) = AssertEquivalent(json, DefaultDepth);
                    Assert.True(legal == tokenizer.Accepted, Show(json));
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(200)]
    public void Depth_limit_agrees_with_MaxDepth(int limit)
    {
        for (int nesting = limit - 1; nesting <= limit + 1; nesting++)
        {
            foreach (var json in Nested(nesting))
            {
                var (tokenizer, _) = AssertEquivalent(json, limit);
                Assert.True((nesting <= limit) == tokenizer.Accepted, $"nesting {nesting}, limit {limit}: {Show(json)}");
            }
        }
    }

    /// <summary>Documents nested exactly <paramref name="n"/> deep: arrays, objects, both alternating, and siblings.</summary>
    private static IEnumerable<byte[]> Nested(int n)
    {
        var arrays = new StringBuilder();
        var objects = new StringBuilder();
        var mixed = new StringBuilder();
        for (int i = 0; i < n; i++)
        {
            arrays.Append('[');
            objects.Append("{\"a\":");
            mixed.Append(i % 2 == 0 ? "[1," : "{\"k\" :");
        }

        arrays.Append('1');
        objects.Append('1');
        mixed.Append("null");
        for (int i = n - 1; i >= 0; i--)
        {
            arrays.Append(']');
            objects.Append('}');
            mixed.Append(i % 2 == 0 ? ",2]" : ",\"z\":2}");
        }

        // Containers that close before the deepest one opens must not count towards the depth.
        var items = Enumerable.Range(0, Math.Max(n - 1, 0)).Append(n - 1)
            .Select(i => new string('[', i) + "0" + new string(']', i));
        var siblings = n == 0 ? "0" : "[" + string.Join(",", items) + "]";
        return new[] { arrays.ToString(), objects.ToString(), mixed.ToString(), siblings }.Select(Encoding.UTF8.GetBytes);
    }

    [Property(MaxTest = 2000)]
    public Property Valid_documents_tokenize_as_the_reader_does() =>
        Prop.ForAll(Arb.From(DocumentGen), (Action<string>)(text =>
        {
            var json = Encoding.UTF8.GetBytes(text);
            var (tokenizer, _) = AssertEquivalent(json, DefaultDepth);
            Assert.True(tokenizer.Accepted, Show(json));
            for (int limit = 1; limit <= 3; limit++)
            {
                AssertEquivalent(json, limit);
            }
        }));

    [Property(MaxTest = 2000)]
    public Property Mutated_documents_are_accepted_or_rejected_as_the_reader_does() =>
        Prop.ForAll(Arb.From(DocumentGen), Arb.From(Gen.Choose(0, int.MaxValue)), (Action<string, int>)((text, seed) =>
        {
            var mutant = Mutate(Encoding.UTF8.GetBytes(text), new Random(seed));
            if (mutant is not null)
            {
                AssertEquivalent(mutant, DefaultDepth);
                AssertEquivalent(mutant, 2);
            }
        }));

    /// <summary>The mutator must keep producing both kinds, or the property above proves little.</summary>
    [Fact]
    public void Mutants_from_a_fixed_corpus_are_both_accepted_and_rejected()
    {
        string[] corpus =
        [
            "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
            "[1, -2.5, 3e10, 4E-2, 0, -0.0, \"x\\ny\", {}]",
            "{ \"name\" : \"Ann\\u00e9\" , \"tags\" : [ \"a\" , \"b\" ] }",
            "\"\\\"quoted\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"",
            "[[[[1]]],{\"a\":{\"b\":{}}},[]]",
            "{\"email\":\"a@b.c\",\"phone\":\"123\",\"items\":[{\"ssn\":\"1\"},{\"ssn\":null}]}",
            "12345.6789e+12",
            "\t\r\n{\"k\"\t:\r\n[\n]\n}\n",
            "{\"é\":\"😀\",\"\\uD83D\\uDE00\":[\"漢字\"]}",
        ];
        var rng = new Random(20261129);
        int accepted = 0, rejected = 0, skipped = 0;
        for (int i = 0; i < 5000; i++)
        {
            var mutant = Mutate(Encoding.UTF8.GetBytes(corpus[i % corpus.Length]), rng);
            if (mutant is null)
            {
                skipped++;
                continue;
            }

            var (tokenizer, _) = AssertEquivalent(mutant, DefaultDepth);
            if (tokenizer.Accepted)
            {
                accepted++;
            }
            else
            {
                rejected++;
            }
        }

        Assert.True(accepted >= 250, $"accepted {accepted}, rejected {rejected}, skipped {skipped}");
        Assert.True(rejected >= 2500, $"accepted {accepted}, rejected {rejected}, skipped {skipped}");
        Assert.True(skipped <= 1000, $"accepted {accepted}, rejected {rejected}, skipped {skipped}");
    }
}
