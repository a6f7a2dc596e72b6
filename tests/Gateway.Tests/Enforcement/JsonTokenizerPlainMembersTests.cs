using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using ConsentGateway.Enforcement;
using Xunit;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>
/// <see cref="JsonTokenizer.TrySkipPlainMembers"/> against its definition, read token by token: from a
/// point inside an object it must pass exactly the members that follow while each is compact, has an
/// unescaped printable-ASCII name whose length the mask does not mark, and a value that is an unescaped
/// scalar or a container <see cref="JsonTokenizer.TrySkipCompactContainer"/> accepts; then stand where
/// reading token by token stands (on the last value, or on the marked name it stopped at), so that every
/// token read afterwards is the same. Run at every point of generated documents and of mutants of them.
/// </summary>
public sealed class JsonTokenizerPlainMembersTests
{
    private const int MaxDepth = 5;

    /// <summary>The first-byte bits generated names can have: n, k (either case) and, for the empty name, the closing quote.</summary>
    private static readonly ulong FirstByteBits = "nk\"".Aggregate(0UL, (bits, c) => bits | NamesToRead.FirstByteBit((byte)c));

    [Theory]
    // Nothing marked: every member is passed, and the tokeniser stands on the last value.
    [InlineData("""{"a":1,"bb":"x","c":[1,{"d":null}],"e":{}}""", 0UL, 1, 41)]
    // Length 2 marked: the run stops on "bb", which is then the current token.
    [InlineData("""{"a":1,"bb":"x","c":true}""", 1UL << 2, 1, 6)]
    [InlineData("""{"bb":"x","c":true}""", 1UL << 2, -1, -1)]
    // Not plain: whitespace, an escaped or non-ASCII name, an escaped string, a non-compact container.
    [InlineData("""{"a":1, "b":2}""", 0UL, 1, 6)]
    [InlineData("""{"a":1,"\u0062":2}""", 0UL, 1, 6)]
    [InlineData("""{"a":1,"é":2}""", 0UL, 1, 6)]
    [InlineData("""{"a":1,"b":"\n"}""", 0UL, 1, 6)]
    [InlineData("""{"a":1,"b":[1 ]}""", 0UL, 1, 6)]
    [InlineData("""{"a" :1}""", 0UL, -1, -1)]
    // Too deep for the limit: declined, for the walk to report.
    [InlineData("""{"a":1,"b":[[[[[1]]]]]}""", 0UL, 1, 6)]
    public void Passes_exactly_the_plain_members_after_the_start_of_an_object(string json, ulong lengthsToRead, int expectedStart, int expectedEnd)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var tokenizer = new JsonTokenizer(bytes, new byte[MaxDepth + 1]);
        Assert.True(tokenizer.Read());
        var fast = tokenizer;
        Assert.Equal(expectedStart, fast.TrySkipPlainMembers(new NamesToRead(lengthsToRead, ulong.MaxValue), MaxDepth, out int end));
        if (expectedStart >= 0)
        {
            Assert.Equal(expectedEnd, end);
        }

        Assert.Null(Compare(bytes, tokenizer, new NamesToRead(lengthsToRead, ulong.MaxValue), inObject: true));
    }

    [Fact]
    public void A_name_of_a_marked_length_is_passed_when_its_first_byte_is_not_marked()
    {
        var bytes = """{"a":1,"bb":"x","Cc":true,"cd":2}"""u8.ToArray();
        var tokenizer = new JsonTokenizer(bytes, new byte[MaxDepth + 1]);
        Assert.True(tokenizer.Read());
        var names = new NamesToRead(1UL << 2, NamesToRead.FirstByteBit((byte)'c'));

        var fast = tokenizer;
        Assert.Equal(1, fast.TrySkipPlainMembers(names, MaxDepth, out int end));

        // "bb" is passed, "Cc" (c folded) stops the run and is the current token.
        Assert.Equal(15, end);
        Assert.Equal(JsonTokenType.PropertyName, fast.TokenType);
        Assert.Equal("Cc"u8.ToArray(), fast.ValueSpan.ToArray());
        Assert.Null(Compare(bytes, tokenizer, names, inObject: true));
    }

    [Fact]
    public void Outside_an_object_nothing_is_passed()
    {
        var bytes = """[{"a":1},2]"""u8.ToArray();
        var tokenizer = new JsonTokenizer(bytes, new byte[MaxDepth + 1]);
        Assert.True(tokenizer.Read());
        Assert.Equal(-1, tokenizer.TrySkipPlainMembers(default, MaxDepth, out _));
        Assert.Equal(JsonTokenType.StartArray, tokenizer.TokenType);
        Assert.Equal(1, tokenizer.BytesConsumed);
    }

    [Fact]
    public void Agrees_with_reading_token_by_token_on_generated_documents_and_their_mutants()
    {
        var random = new Random(20261130);
        int passed = 0, stoppedOnName = 0, none = 0;
        for (int i = 0; i < 3000; i++)
        {
            var doc = Encoding.UTF8.GetBytes("{" + string.Join(",", Enumerable.Range(0, random.Next(1, 6)).Select(_ => "\"" + Name(random) + "\":" + JsonTokenizerCompactTests.Generate(random, 1))) + "}");
            Check(doc, random, ref passed, ref stoppedOnName, ref none);
            for (int m = 0; m < 4; m++)
            {
                var mutant = JsonTokenizerCompactTests.Mutate(random, doc);
                if (mutant.Length > 0 && Utf8.IsValid(mutant))
                {
                    Check(mutant, random, ref passed, ref stoppedOnName, ref none);
                }
            }
        }

        // Every outcome must occur often, or the generator has degenerated and proves nothing.
        Assert.True(passed > 1000, $"passed {passed}");
        Assert.True(stoppedOnName > 1000, $"stopped on a name {stoppedOnName}");
        Assert.True(none > 1000, $"none {none}");
    }

    private static string Name(Random random) => random.Next(8) switch
    {
        0 => "é",
        1 => "\\u0061",
        // Two first letters, in either case, so the first-byte set both stops and passes names of a marked length.
        _ => random.Next(0, 6) is var length && length == 0 ? string.Empty : "nNkK"[random.Next(4)] + new string('n', length - 1),
    };

    /// <summary>Runs the comparison at every token of <paramref name="doc"/> where a member may follow, with a random mask of lengths.</summary>
    private static void Check(byte[] doc, Random random, ref int passed, ref int stoppedOnName, ref int none)
    {
        var tokenizer = new JsonTokenizer(doc, new byte[MaxDepth + 1]);
        var kinds = new Stack<JsonTokenType>();
        try
        {
            while (tokenizer.Read())
            {
                switch (tokenizer.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        kinds.Push(tokenizer.TokenType);
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        kinds.Pop();
                        break;
                }

                if (tokenizer.TokenType == JsonTokenType.PropertyName)
                {
                    continue;
                }

                // Lengths 0-5 (the generated names are short) and some of their first bytes.
                var names = random.Next(3) == 0 ? default : new NamesToRead((ulong)random.NextInt64() & 0b111111, random.Next(4) == 0 ? ulong.MaxValue : (ulong)random.NextInt64() & FirstByteBits);
                var failure = Compare(doc, tokenizer, names, kinds.Count > 0 && kinds.Peek() == JsonTokenType.StartObject, out var outcome);
                Assert.True(failure is null, failure);
                switch (outcome)
                {
                    case Outcome.Passed: passed++; break;
                    case Outcome.StoppedOnName: stoppedOnName++; break;
                    default: none++; break;
                }
            }
        }
        catch (JsonException)
        {
            // Malformed from here on; every point before it was compared.
        }
    }

    private enum Outcome
    {
        None,
        Passed,
        StoppedOnName,
    }

    private static string? Compare(byte[] doc, JsonTokenizer at, NamesToRead namesToRead, bool inObject) =>
        Compare(doc, at, namesToRead, inObject, out _);

    /// <summary>The fast path from <paramref name="at"/> (a copy) against the definition; a description of the first disagreement, or null.</summary>
    private static string? Compare(byte[] doc, JsonTokenizer at, NamesToRead namesToRead, bool inObject, out Outcome outcome)
    {
        var fast = at;
        int start = fast.TrySkipPlainMembers(namesToRead, MaxDepth, out int end);
        var expected = Definition(doc, at, namesToRead, inObject, out int expectedStart, out int expectedEnd, out bool onName);
        outcome = onName ? Outcome.StoppedOnName : expectedStart >= 0 ? Outcome.Passed : Outcome.None;
        string where = $"at {at.BytesConsumed} lengths {namesToRead.Lengths:X} first bytes {namesToRead.FirstBytes:X}: {JsonTokenizerCompactTests.Escape(doc)}";
        if (start != expectedStart || (start >= 0 && end != expectedEnd))
        {
            return $"fast {start}..{end}, tokens {expectedStart}..{expectedEnd} {where}";
        }

        // From here both must read the same tokens to the end (or fail at the same point).
        for (int i = 0; ; i++)
        {
            if (fast.TokenType != expected.TokenType || fast.TokenStartIndex != expected.TokenStartIndex || fast.BytesConsumed != expected.BytesConsumed
                || fast.CurrentDepth != expected.CurrentDepth || !fast.ValueSpan.SequenceEqual(expected.ValueSpan) || fast.ValueIsEscaped != expected.ValueIsEscaped)
            {
                return $"token {i} after the skip differs ({fast.TokenType}@{fast.TokenStartIndex} against {expected.TokenType}@{expected.TokenStartIndex}) {where}";
            }

            bool fastMore = ReadOn(ref fast, out string? fastError);
            bool expectedMore = ReadOn(ref expected, out string? expectedError);
            if (fastMore != expectedMore || fastError != expectedError)
            {
                return $"reading on after the skip differs at token {i} ({fastError} / {expectedError}) {where}";
            }

            if (!fastMore)
            {
                return null;
            }
        }
    }

    /// <summary>Reads the next token; false at the end of the document or, with the reason, where it is malformed.</summary>
    private static bool ReadOn(ref JsonTokenizer tokenizer, out string? error)
    {
        error = null;
        try
        {
            return tokenizer.Read();
        }
        catch (JsonException e)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>
    /// The definition, token by token from <paramref name="at"/>: returns the tokeniser where the fast path
    /// must leave it, the first passed member's name and the end of the last one's value (-1 when none).
    /// </summary>
    private static JsonTokenizer Definition(byte[] doc, JsonTokenizer at, NamesToRead namesToRead, bool inObject, out int first, out int end, out bool onName)
    {
        first = -1;
        end = -1;
        onName = false;
        var current = at;
        if (!inObject)
        {
            return current;
        }

        bool opened = at.TokenType == JsonTokenType.StartObject;
        while (true)
        {
            var name = current;
            if (!ReadOn(ref name, out _) || name.TokenType != JsonTokenType.PropertyName)
            {
                return current;
            }

            int length = name.ValueSpan.Length;
            bool plainName = name.TokenStartIndex == current.BytesConsumed + (opened ? 0 : 1)
                && (opened || doc[current.BytesConsumed] == (byte)',')
                && !name.ValueIsEscaped && JsonTokenizerCompactTests.IsPrintableAscii(name.ValueSpan)
                && name.BytesConsumed == name.TokenStartIndex + length + 3;
            if (!plainName)
            {
                return current;
            }

            // Read as the definition needs: by its length and its first byte, folded (the closing quote for an empty name).
            char firstByte = length > 0 ? (char)name.ValueSpan[0] : '"';
            bool lengthMarked = (namesToRead.Lengths & (1UL << Math.Min(length, 63))) != 0;
            bool firstMarked = (namesToRead.FirstBytes & (1UL << (char.ToLowerInvariant(firstByte) & 63))) != 0;
            if (lengthMarked && firstMarked)
            {
                onName = true;
                return name;
            }

            var value = name;
            if (!ReadOn(ref value, out _) || value.TokenStartIndex != name.BytesConsumed)
            {
                return current;
            }

            bool plainValue = value.TokenType switch
            {
                JsonTokenType.String => !value.ValueIsEscaped,
                JsonTokenType.StartObject or JsonTokenType.StartArray => value.TrySkipCompactContainer(MaxDepth),
                _ => true,
            };
            if (!plainValue)
            {
                return current;
            }

            first = first < 0 ? name.TokenStartIndex : first;
            end = value.BytesConsumed;
            current = value;
            opened = false;
        }
    }
}
