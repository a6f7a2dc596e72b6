using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using ConsentGateway.Enforcement;
using FsCheck;
using FsCheck.Fluent;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>
/// The machinery of <see cref="JsonTokenizerTests"/>: runs <see cref="JsonTokenizer"/> and
/// <see cref="Utf8JsonReader"/> over one input and compares them; generates valid documents; mutates them.
/// </summary>
internal static class JsonTokenizerDifferential
{
    internal static readonly Gen<string> Ws = Gen.Frequency(
        (6, Gen.Constant("")),
        (3, Gen.Elements(" ", "\t", "\n", "\r\n", "  ", " \t\r\n")));

    internal static readonly Gen<string> Digits =
        from n in Gen.Choose(1, 4)
        from ds in Gen.ArrayOf(Gen.Choose(0, 9), n)
        select string.Concat(ds);

    internal static readonly Gen<string> NumberGen =
        from sign in Gen.Elements("", "-")
        from integer in Gen.OneOf(Gen.Constant("0"), from first in Gen.Choose(1, 9) from rest in Gen.OneOf(Gen.Constant(""), Digits) select first + rest)
        from fraction in Gen.OneOf(Gen.Constant(""), Digits.Select(d => "." + d))
        from exponent in Gen.OneOf(
            Gen.Constant(""),
            from e in Gen.Elements("e", "E") from s in Gen.Elements("", "+", "-") from d in Digits select e + s + d)
        select sign + integer + fraction + exponent;

    internal static readonly Gen<string> StringGen =
        from n in Gen.Choose(0, 5)
        from pieces in Gen.ArrayOf(
            Gen.Frequency(
                (4, Gen.Elements("a", "Z", " ", "é", "😀", "漢", "\u007F", "~", "/", "'", "\u2028")),
                (3, Gen.Elements("\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t")),
                (2, Gen.ArrayOf(Gen.Elements("0123456789abcdefABCDEF".ToCharArray()), 4).Select(h => "\\u" + new string(h))),
                (1, Gen.Elements("\\uD83D\\uDE00", "\\ud800", "\\uDC00", "\\u0000", "\\u001f"))),
            n)
        select "\"" + string.Concat(pieces) + "\"";

    internal static readonly Gen<string> ScalarGen = Gen.Frequency(
        (3, NumberGen),
        (3, StringGen),
        (1, Gen.Elements("true", "false", "null")));

    internal static readonly Gen<string> DocumentGen =
        from depth in Gen.Choose(0, 4)
        from before in Ws
        from value in ValueGen(depth)
        from after in Ws
        select before + value + after;

    private static Gen<string> ValueGen(int depth) => depth <= 0
        ? ScalarGen
        : Gen.Frequency((2, ScalarGen), (2, ObjectGen(depth - 1)), (2, ArrayGen(depth - 1)));

    private static Gen<string> ArrayGen(int depth) =>
        from n in Gen.Choose(0, 4)
        from items in Gen.ArrayOf(from a in Ws from v in ValueGen(depth) from b in Ws select a + v + b, n)
        from empty in Ws
        select "[" + (n == 0 ? empty : string.Join(",", items)) + "]";

    private static Gen<string> ObjectGen(int depth) =>
        from n in Gen.Choose(0, 4)
        from members in Gen.ArrayOf(
            from a in Ws from name in StringGen from b in Ws from c in Ws from v in ValueGen(depth) from d in Ws
            select a + name + b + ":" + c + v + d,
            n)
        from empty in Ws
        select "{" + (n == 0 ? empty : string.Join(",", members)) + "}";

    private static readonly byte[] Alphabet =
        [.. "{}[],:\"\\ 0123456789-+.eEtrufalsnx/'"u8, 0x00, 0x01, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1F, 0x7F];

    /// <summary>One to three random edits; null when the result is not a candidate the filter would tokenize.</summary>
    internal static byte[]? Mutate(byte[] doc, Random rng)
    {
        var bytes = new List<byte>(doc);
        int edits = rng.Next(1, 4);
        for (int e = 0; e < edits; e++)
        {
            int n = bytes.Count;
            switch (rng.Next(6))
            {
                case 0 when n > 0:
                    bytes.RemoveAt(rng.Next(n));
                    break;
                case 1:
                    bytes.Insert(rng.Next(n + 1), Alphabet[rng.Next(Alphabet.Length)]);
                    break;
                case 2 when n > 0:
                    int from = rng.Next(n);
                    var span = bytes.GetRange(from, rng.Next(1, Math.Min(8, n - from) + 1));
                    bytes.InsertRange(rng.Next(n + 1), span);
                    break;
                case 3 when n > 1:
                    int i = rng.Next(n), j = rng.Next(n);
                    (bytes[i], bytes[j]) = (bytes[j], bytes[i]);
                    break;
                case 4 when n > 0:
                    int cut = rng.Next(n);
                    bytes.RemoveRange(cut, n - cut);
                    break;
                case 5 when n > 0:
                    bytes[rng.Next(n)] = Alphabet[rng.Next(Alphabet.Length)];
                    break;
            }
        }

        var mutant = bytes.ToArray();
        return mutant.Length == 0 || !Utf8.IsValid(mutant) || mutant.AsSpan().StartsWith("\uFEFF"u8) ? null : mutant;
    }

    internal readonly record struct Tok(JsonTokenType Type, int Start, string Value, bool Escaped, int Depth, int Consumed, string? Copy);

    internal sealed record Run(List<Tok> Tokens, string? Error, int FinalConsumed)
    {
        public bool Accepted => Error is null;
    }

    internal static (Run Tokenizer, Run Reader) AssertEquivalent(byte[] json, int maxDepth)
    {
        var tokenizer = RunTokenizer(json, maxDepth);
        var reader = RunReader(json, maxDepth);
        if (tokenizer.Accepted != reader.Accepted)
        {
            Assert.Fail($"Tokenizer {Outcome(tokenizer)} but reader {Outcome(reader)} (max depth {maxDepth}): {Show(json)}");
        }

        if (tokenizer.Accepted)
        {
            for (int i = 0; i < Math.Max(tokenizer.Tokens.Count, reader.Tokens.Count); i++)
            {
                var t = i < tokenizer.Tokens.Count ? tokenizer.Tokens[i] : (Tok?)null;
                var r = i < reader.Tokens.Count ? reader.Tokens[i] : (Tok?)null;
                if (t != r)
                {
                    Assert.Fail($"Token {i} differs: tokenizer {t}, reader {r}: {Show(json)}");
                }
            }

            Assert.True(tokenizer.FinalConsumed == reader.FinalConsumed, $"Final BytesConsumed {tokenizer.FinalConsumed} vs {reader.FinalConsumed}: {Show(json)}");
        }

        return (tokenizer, reader);
    }

    private static string Outcome(Run run) => run.Accepted ? $"accepted ({run.Tokens.Count} tokens)" : $"rejected after {run.Tokens.Count} tokens ({run.Error})";

    private static Run RunTokenizer(byte[] json, int maxDepth)
    {
        var tokens = new List<Tok>();
        var tokenizer = new JsonTokenizer(json, new byte[maxDepth]);
        try
        {
            while (tokenizer.Read())
            {
                if (tokens.Count > json.Length)
                {
                    Assert.Fail($"Tokenizer makes no progress: {Show(json)}");
                }

                string? copy = null;
                if (tokenizer.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
                {
                    var buffer = new byte[tokenizer.ValueSpan.Length];
                    try
                    {
                        copy = Convert.ToHexString(buffer, 0, tokenizer.CopyString(buffer));
                    }
                    catch (Exception e) when (e is InvalidOperationException or JsonException)
                    {
                        copy = "!" + e.GetType().Name;
                    }
                }

                tokens.Add(new Tok(
                    tokenizer.TokenType, tokenizer.TokenStartIndex, Convert.ToHexString(tokenizer.ValueSpan),
                    tokenizer.ValueIsEscaped, tokenizer.CurrentDepth, tokenizer.BytesConsumed, copy));
            }
        }
        catch (JsonException e)
        {
            Assert.True(e.GetType() == typeof(JsonException), $"Tokenizer threw {e.GetType()}: {Show(json)}");
            return new Run(tokens, e.Message, tokenizer.BytesConsumed);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            Assert.Fail($"Tokenizer threw {e.GetType()} ({e.Message}) instead of JsonException: {Show(json)}");
        }

        return new Run(tokens, null, tokenizer.BytesConsumed);
    }

    private static Run RunReader(byte[] json, int maxDepth)
    {
        var tokens = new List<Tok>();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            while (reader.Read())
            {
                string? copy = null;
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
                {
                    var buffer = new byte[reader.ValueSpan.Length];
                    try
                    {
                        copy = Convert.ToHexString(buffer, 0, reader.CopyString(buffer));
                    }
                    catch (Exception e) when (e is InvalidOperationException or JsonException)
                    {
                        copy = "!" + e.GetType().Name;
                    }
                }

                tokens.Add(new Tok(
                    reader.TokenType, (int)reader.TokenStartIndex, Convert.ToHexString(reader.ValueSpan),
                    reader.ValueIsEscaped, reader.CurrentDepth, (int)reader.BytesConsumed, copy));
            }
        }
        catch (JsonException e)
        {
            return new Run(tokens, e.Message, (int)reader.BytesConsumed);
        }

        return new Run(tokens, null, (int)reader.BytesConsumed);
    }

    /// <summary>The input as printable ASCII: other bytes as \xHH.</summary>
    internal static string Show(byte[] json)
    {
        var sb = new StringBuilder("<");
        foreach (byte b in json)
        {
            sb.Append(b is >= 0x20 and < 0x7F and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:X2}");
        }

        return sb.Append("> (").Append(json.Length).Append(" bytes)").ToString();
    }
}
