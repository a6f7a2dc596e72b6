using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>
/// The pointer reader as it was on <see cref="Utf8JsonReader"/> (before it moved to JsonTokenizer), kept
/// verbatim but for its name as the reference the current one is compared against.
/// </summary>
internal static class JsonPointerOracle
{
    public static JsonPointerStatus TryRead(ReadOnlySpan<byte> utf8Json, string pointer, bool caseSensitive, int maxDepth, out string? value)
    {
        value = null;
        if (!JsonPointer.TrySplit(pointer, out var tokens, out var error))
        {
            throw new ArgumentException(error, nameof(pointer));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxDepth, 1);
        if (utf8Json.IsEmpty || utf8Json.StartsWith("\uFEFF"u8) || !Utf8.IsValid(utf8Json))
        {
            return JsonPointerStatus.Malformed;
        }

        var walk = new Walk
        {
            Reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = maxDepth }),
            Tokens = tokens,
            CaseSensitive = caseSensitive,
            Counts = new int[tokens.Length + 1],
        };

        try
        {
            if (!walk.Reader.Read())
            {
                return JsonPointerStatus.Malformed;
            }

            walk.Counts[0] = 1;
            Visit(ref walk, 0);

            // Throws on trailing content: the whole body must be one well-formed value.
            if (walk.Reader.Read())
            {
                return JsonPointerStatus.Malformed;
            }
        }
        catch (JsonException)
        {
            return JsonPointerStatus.Malformed;
        }
        catch (InvalidOperationException)
        {
            // Lone surrogate escapes.
            return JsonPointerStatus.Malformed;
        }

        for (int k = 1; k < walk.Counts.Length; k++)
        {
            if (walk.Counts[k] > 1)
            {
                return JsonPointerStatus.Ambiguous;
            }
        }

        if (walk.Counts[tokens.Length] == 0)
        {
            return JsonPointerStatus.Missing;
        }

        if (walk.Value is null)
        {
            return JsonPointerStatus.NotAScalar;
        }

        value = walk.Value;
        return JsonPointerStatus.Found;
    }

    // Recursion depth is bounded by the pointer's token count (configuration), not by the body.
    // The reader is on the first token of a node already matched by the first k tokens.
    private static void Visit(ref Walk walk, int k)
    {
        ref var reader = ref walk.Reader;
        if (k == walk.Tokens.Length)
        {
            if (walk.Counts[k] == 1)
            {
                walk.Value = reader.TokenType switch
                {
                    JsonTokenType.String => reader.GetString(),
                    JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                    _ => null,
                };
            }

            Skip(ref reader);
            return;
        }

        string token = walk.Tokens[k];
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            var rule = new JsonRuleName(token);
            Span<char> buffer = stackalloc char[256];
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                bool match = MatchesName(ref reader, rule, buffer, walk.CaseSensitive);
                Next(ref reader);
                if (match)
                {
                    walk.Counts[k + 1]++;
                    Visit(ref walk, k + 1);
                }
                else
                {
                    Skip(ref reader);
                }
            }
        }
        else if (reader.TokenType == JsonTokenType.StartArray)
        {
            int index = ParseIndex(token);
            for (int i = 0; Next(ref reader) != JsonTokenType.EndArray; i++)
            {
                if (i == index)
                {
                    walk.Counts[k + 1]++;
                    Visit(ref walk, k + 1);
                }
                else
                {
                    Skip(ref reader);
                }
            }
        }
        else
        {
            Skip(ref reader);
        }
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        // With the whole body as the final block, running out of input mid-value throws; this only guards.
        if (!reader.Read())
        {
            throw new JsonException("Unexpected end of JSON.");
        }

        return reader.TokenType;
    }

    private static bool MatchesName(ref Utf8JsonReader reader, JsonRuleName rule, scoped Span<char> buffer, bool caseSensitive)
    {
        if (!reader.ValueIsEscaped)
        {
            var probe = new JsonPropertyNameProbe(reader.ValueSpan, buffer);
            return probe.Matches(rule, caseSensitive);
        }

        // Subject pointers are read once per request; an allocation for an escaped name is acceptable.
        byte[] unescaped = new byte[reader.ValueSpan.Length];
        int n = reader.CopyString(unescaped);
        var escapedProbe = new JsonPropertyNameProbe(unescaped.AsSpan(0, n), buffer);
        return escapedProbe.Matches(rule, caseSensitive);
    }

    // RFC 6901 array indices: "0" or digits without a leading zero; "-" and anything else select nothing.
    private static int ParseIndex(string token)
    {
        if (token.Length == 0 || token.Length > 9 || (token.Length > 1 && token[0] == '0'))
        {
            return -1;
        }

        int value = 0;
        foreach (char c in token)
        {
            if (!char.IsAsciiDigit(c))
            {
                return -1;
            }

            value = (value * 10) + (c - '0');
        }

        return value;
    }

    /// <summary>Reads past the current value, unescaping strings on the way so that lone surrogates are reported.</summary>
    private static void Skip(ref Utf8JsonReader reader)
    {
        Span<byte> small = stackalloc byte[256];
        int depth = reader.CurrentDepth;
        while (true)
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
            {
                int length = reader.ValueSpan.Length;
                reader.CopyString(length <= small.Length ? small : new byte[length]);
            }

            if (reader.CurrentDepth == depth && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                return;
            }

            Next(ref reader);
        }
    }

    private ref struct Walk
    {
        public Utf8JsonReader Reader;
        public string[] Tokens;
        public bool CaseSensitive;

        /// <summary>Counts[k]: nodes matched by the first k tokens; more than one at any k is ambiguous.</summary>
        public int[] Counts;
        public string? Value;
    }
}
