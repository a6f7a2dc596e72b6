using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace ConsentGateway.Enforcement;

internal enum JsonPointerStatus : byte
{
    Found,
    Missing,

    /// <summary>The target, or an object on the way to it, occurs more than once: the backend may bind either.</summary>
    Ambiguous,
    Malformed,

    /// <summary>The target exists but is not a string or a number.</summary>
    NotAScalar,
}

/// <summary>
/// Reads one value addressed by an RFC 6901 JSON pointer from a body in one streaming pass. Used to take
/// the data subject id from a request body, so it refuses to guess: names match the way the filter and
/// a case-insensitive backend match them, and any duplicate on the way makes the result ambiguous.
/// It judges the body with <see cref="JsonTokenizer"/>, the grammar the body filter uses, so the two
/// can never disagree on whether a body is JSON.
/// </summary>
internal static class JsonPointerReader
{
    private const int StackBytes = 256;
    private const int StackCounts = 32;

    /// <summary>Parses <paramref name="pointer"/> on every call: for tests and one-off reads (see the other overload).</summary>
    public static JsonPointerStatus TryRead(ReadOnlySpan<byte> utf8Json, string pointer, bool caseSensitive, int maxDepth, out string? value)
    {
        if (!JsonPointer.TryParse(pointer, out var parsed, out var error))
        {
            throw new ArgumentException(error, nameof(pointer));
        }

        return TryRead(utf8Json, parsed, caseSensitive, maxDepth, out value);
    }

    /// <summary>
    /// The per-request path: the pointer was parsed when the policy was compiled, and all scratch space
    /// is on the stack or pooled; only the value found is allocated.
    /// </summary>
    /// <param name="maxDepth">Containers that may be open at once; a body nested deeper is malformed (as Utf8JsonReader's MaxDepth).</param>
    public static JsonPointerStatus TryRead(ReadOnlySpan<byte> utf8Json, JsonPointer pointer, bool caseSensitive, int maxDepth, out string? value)
    {
        ArgumentNullException.ThrowIfNull(pointer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDepth, 1);
        value = null;
        if (utf8Json.IsEmpty || utf8Json.StartsWith("\uFEFF"u8) || !Utf8.IsValid(utf8Json))
        {
            return JsonPointerStatus.Malformed;
        }

        // Every open container takes at least one byte, so a body never needs more levels than its
        // length: the limit then cannot be reached, and a large maxDepth costs nothing.
        int levels = Math.Min(maxDepth, utf8Json.Length);
        byte[]? rentedContainers = null;
        Span<byte> containers = levels <= StackBytes
            ? stackalloc byte[StackBytes]
            : (rentedContainers = ArrayPool<byte>.Shared.Rent(levels));
        int countLength = pointer.Length + 1;
        int[]? rentedCounts = null;
        Span<int> counts = countLength <= StackCounts
            ? stackalloc int[StackCounts]
            : (rentedCounts = ArrayPool<int>.Shared.Rent(countLength));
        int nameChars = 3 * pointer.MaxNameChars;
        char[]? rentedChars = null;
        Span<char> chars = nameChars <= StackBytes
            ? stackalloc char[StackBytes]
            : (rentedChars = ArrayPool<char>.Shared.Rent(nameChars));
        Span<byte> bytes = stackalloc byte[StackBytes];

        try
        {
            var walk = new Walk
            {
                Reader = new JsonTokenizer(utf8Json, containers[..levels]),
                Levels = levels,
                Pointer = pointer,
                CaseSensitive = caseSensitive,
                Counts = counts[..countLength],
                NameChars = chars,
                Bytes = bytes,
            };
            walk.Counts.Clear();
            return Run(ref walk, out value);
        }
        finally
        {
            if (rentedContainers is not null)
            {
                ArrayPool<byte>.Shared.Return(rentedContainers);
            }

            if (rentedCounts is not null)
            {
                ArrayPool<int>.Shared.Return(rentedCounts);
            }

            if (rentedChars is not null)
            {
                ArrayPool<char>.Shared.Return(rentedChars);
            }
        }
    }

    private static JsonPointerStatus Run(ref Walk walk, out string? value)
    {
        value = null;
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
            // CopyString throws this for escapes that do not decode (a lone "\ud800").
            return JsonPointerStatus.Malformed;
        }

        for (int k = 1; k < walk.Counts.Length; k++)
        {
            if (walk.Counts[k] > 1)
            {
                return JsonPointerStatus.Ambiguous;
            }
        }

        if (walk.Counts[walk.Pointer.Length] == 0)
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
        if (k == walk.Pointer.Length)
        {
            if (walk.Counts[k] == 1)
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.String:
                        walk.Value = Decode(ref walk, toString: true);
                        return;
                    case JsonTokenType.Number:
                        walk.Value = Encoding.UTF8.GetString(reader.ValueSpan);
                        return;
                }
            }

            Skip(ref walk);
            return;
        }

        if (reader.TokenType == JsonTokenType.StartObject)
        {
            var rule = walk.Pointer.Name(k);
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                bool match = MatchesName(ref walk, rule);
                Next(ref reader);
                if (match)
                {
                    walk.Counts[k + 1]++;
                    Visit(ref walk, k + 1);
                }
                else
                {
                    Skip(ref walk);
                }
            }
        }
        else if (reader.TokenType == JsonTokenType.StartArray)
        {
            int index = walk.Pointer.Index(k);
            for (int i = 0; Next(ref reader) != JsonTokenType.EndArray; i++)
            {
                if (i == index)
                {
                    walk.Counts[k + 1]++;
                    Visit(ref walk, k + 1);
                }
                else
                {
                    Skip(ref walk);
                }
            }
        }
        else
        {
            Skip(ref walk);
        }
    }

    private static JsonTokenType Next(ref JsonTokenizer reader)
    {
        // Inside a container the tokeniser throws rather than run out; this only guards.
        if (!reader.Read())
        {
            throw new JsonException("Unexpected end of JSON.");
        }

        return reader.TokenType;
    }

    private static bool MatchesName(ref Walk walk, JsonRuleName rule)
    {
        ref var reader = ref walk.Reader;
        if (!reader.ValueIsEscaped)
        {
            var probe = new JsonPropertyNameProbe(reader.ValueSpan, walk.NameChars);
            return probe.Matches(rule, walk.CaseSensitive);
        }

        int length = reader.ValueSpan.Length;
        byte[]? rented = null;
        Span<byte> buffer = length <= walk.Bytes.Length ? walk.Bytes : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            int n = reader.CopyString(buffer);
            var probe = new JsonPropertyNameProbe(buffer[..n], walk.NameChars);
            return probe.Matches(rule, walk.CaseSensitive);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Decodes the current string or name (throwing for a lone surrogate escape, as the reader's GetString
    /// does); returns it as a string only when asked, else just checks it.
    /// </summary>
    private static string? Decode(ref Walk walk, bool toString)
    {
        ref var reader = ref walk.Reader;
        if (!reader.ValueIsEscaped)
        {
            return toString ? Encoding.UTF8.GetString(reader.ValueSpan) : null;
        }

        int length = reader.ValueSpan.Length;
        byte[]? rented = null;
        Span<byte> buffer = length <= walk.Bytes.Length ? walk.Bytes : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            int n = reader.CopyString(buffer);
            return toString ? Encoding.UTF8.GetString(buffer[..n]) : null;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Reads past the current value, decoding escaped strings on the way so that lone surrogates are
    /// reported wherever they are. Containers that are compact and escape-free (nothing in them to
    /// decode) are checked in one pass by <see cref="JsonTokenizer.TrySkipCompactContainer"/>; it
    /// accepts only what the token-by-token path accepts, and leaves anything else to it.
    /// </summary>
    private static void Skip(ref Walk walk)
    {
        ref var reader = ref walk.Reader;
        int depth = reader.CurrentDepth;
        while (true)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    // On success the tokeniser is on the container's closing token, at the depth it opened at.
                    reader.TrySkipCompactContainer(walk.Levels);
                    break;
                case JsonTokenType.String or JsonTokenType.PropertyName when reader.ValueIsEscaped:
                    Decode(ref walk, toString: false);
                    break;
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
        public JsonTokenizer Reader;

        /// <summary>The tokeniser's container limit, which the compact path must not exceed either.</summary>
        public int Levels;
        public JsonPointer Pointer;
        public bool CaseSensitive;

        /// <summary>Counts[k]: nodes matched by the first k tokens; more than one at any k is ambiguous.</summary>
        public Span<int> Counts;

        /// <summary>Room to decode a name for a case-insensitive comparison (3 × the longest token).</summary>
        public Span<char> NameChars;

        /// <summary>Room to unescape a short string; longer ones rent.</summary>
        public Span<byte> Bytes;
        public string? Value;
    }
}
