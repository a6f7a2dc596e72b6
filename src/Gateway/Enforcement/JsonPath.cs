using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace ConsentGateway.Enforcement;

internal enum JsonPathSegmentKind : byte
{
    /// <summary><c>.name</c> or <c>['name']</c>: a property of the current object.</summary>
    Child,

    /// <summary><c>[*]</c>: every element of the current array (objects are not wildcarded).</summary>
    AnyElement,

    /// <summary><c>..name</c>: a property called name at any depth below, through objects and arrays.</summary>
    Descendant,
}

/// <summary>One step of a <see cref="JsonPath"/>. <see cref="Name"/> is empty for <see cref="JsonPathSegmentKind.AnyElement"/>.</summary>
internal readonly record struct JsonPathSegment(JsonPathSegmentKind Kind, string Name);

/// <summary>
/// A field address in a JSON body: <c>$</c> followed by one or more of <c>.name</c>, <c>['name']</c>,
/// <c>["name"]</c>, <c>[*]</c>, <c>..name</c>, <c>..['name']</c>. Deliberately small: the filter has to
/// evaluate every path in one streaming pass, so nothing here may need look-ahead or backtracking
/// (no filters, slices or indices).
/// </summary>
internal sealed class JsonPath
{
    private JsonPathSegment[] _segments = [];

    public required string Text { get; init; }

    /// <summary>The steps after <c>$</c>; never empty for a parsed path.</summary>
    internal IReadOnlyList<JsonPathSegment> Segments => _segments;

    public override string ToString() => Text;

    public static bool TryParse(string text, [NotNullWhen(true)] out JsonPath? path, [NotNullWhen(false)] out string? error)
    {
        path = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "a JSON path must not be empty";
            return false;
        }

        if (text[0] != '$')
        {
            error = "a JSON path must start with '$'";
            return false;
        }

        var segments = new List<JsonPathSegment>();
        int i = 1;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '.')
            {
                bool descendant = i + 1 < text.Length && text[i + 1] == '.';
                string dots = descendant ? ".." : ".";
                i += dots.Length;
                if (descendant && i < text.Length && text[i] == '[')
                {
                    // '..' followed by a bracketed name: the only bracket form that makes sense after '..'.
                    if (!TryParseBracket(text, ref i, out var inner, out error))
                    {
                        return false;
                    }

                    if (inner.Kind == JsonPathSegmentKind.AnyElement)
                    {
                        error = $"'..[*]' is not supported (at position {i - 3})";
                        return false;
                    }

                    segments.Add(new JsonPathSegment(JsonPathSegmentKind.Descendant, inner.Name));
                    continue;
                }

                int start = i;
                while (i < text.Length && IsNameChar(text[i]))
                {
                    i++;
                }

                if (i == start)
                {
                    error = i < text.Length && text[i] == '*'
                        ? $"wildcard '{dots}*' is not supported at position {i}; use [*] for array elements"
                        : $"expected a property name after '{dots}' at position {i}";
                    return false;
                }

                string name = text[start..i];
                if (HasLoneSurrogate(name))
                {
                    error = $"the name at position {start} contains an unpaired surrogate";
                    return false;
                }

                segments.Add(new JsonPathSegment(descendant ? JsonPathSegmentKind.Descendant : JsonPathSegmentKind.Child, name));
            }
            else if (c == '[')
            {
                if (!TryParseBracket(text, ref i, out var segment, out error))
                {
                    return false;
                }

                segments.Add(segment);
            }
            else
            {
                error = $"unexpected '{c}' at position {i}; expected '.', '..' or '['";
                return false;
            }
        }

        if (segments.Count == 0)
        {
            error = "'$' alone addresses the whole body, which cannot be withheld field by field; name a property";
            return false;
        }

        path = new JsonPath { Text = text, _segments = segments.ToArray() };
        error = null;
        return true;
    }

    // Unquoted names stop at anything that has a meaning in the path syntax; quotes are for the rest.
    private static bool IsNameChar(char c) =>
        c is not ('.' or '[' or ']' or '\'' or '"' or '*' or '$' or '\\') && !char.IsWhiteSpace(c) && !char.IsControl(c);

    private static bool TryParseBracket(string text, ref int i, out JsonPathSegment segment, [NotNullWhen(false)] out string? error)
    {
        segment = default;
        int open = i;
        i++; // '['
        if (i >= text.Length)
        {
            error = $"unterminated '[' at position {open}";
            return false;
        }

        char c = text[i];
        if (c == '*')
        {
            i++;
            if (i >= text.Length || text[i] != ']')
            {
                error = $"expected ']' after '[*' at position {i}";
                return false;
            }

            i++;
            segment = new JsonPathSegment(JsonPathSegmentKind.AnyElement, string.Empty);
            error = null;
            return true;
        }

        if (c is not ('\'' or '"'))
        {
            error = char.IsAsciiDigit(c)
                ? $"array indices are not supported at position {i}; use [*]"
                : $"expected a quoted name or '*' after '[' at position {i}";
            return false;
        }

        char quote = c;
        i++;
        var name = new StringBuilder();
        while (true)
        {
            if (i >= text.Length)
            {
                error = $"unterminated quoted name starting at position {open + 1}";
                return false;
            }

            c = text[i];
            if (c == quote)
            {
                i++;
                break;
            }

            if (c == '\\')
            {
                // A backslash makes the next character literal, so both quote kinds and '\' can be named.
                i++;
                if (i >= text.Length)
                {
                    error = $"unterminated escape at position {i - 1}";
                    return false;
                }

                c = text[i];
            }

            name.Append(c);
            i++;
        }

        if (i >= text.Length || text[i] != ']')
        {
            error = $"expected ']' after the quoted name at position {i}";
            return false;
        }

        i++;
        string value = name.ToString();
        if (HasLoneSurrogate(value))
        {
            error = $"the quoted name at position {open + 1} contains an unpaired surrogate";
            return false;
        }

        segment = new JsonPathSegment(JsonPathSegmentKind.Child, value);
        error = null;
        return true;
    }

    // Names are compared as UTF-8 against a validated body, so an unpaired surrogate could never match:
    // reject it rather than carry a rule that silently protects nothing.
    private static bool HasLoneSurrogate(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return true;
            }
        }

        return false;
    }
}
