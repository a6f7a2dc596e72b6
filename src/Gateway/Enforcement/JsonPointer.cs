using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace ConsentGateway.Enforcement;

/// <summary>
/// An RFC 6901 JSON pointer, parsed once (when the policy is compiled) into what the per-request walk
/// of <see cref="JsonPointerReader"/> compares against: each token as a rule name, in both encodings,
/// and as an array index. Immutable, so one instance serves every request on a route.
/// </summary>
internal sealed class JsonPointer
{
    private readonly string[] _tokens;
    private readonly JsonRuleName[] _names;
    private readonly int[] _indices;

    private JsonPointer(string text, string[] tokens)
    {
        Text = text;
        _tokens = tokens;
        _names = new JsonRuleName[tokens.Length];
        _indices = new int[tokens.Length];
        for (int k = 0; k < tokens.Length; k++)
        {
            _names[k] = new JsonRuleName(tokens[k]);
            _indices[k] = ParseIndex(tokens[k]);
            MaxNameChars = Math.Max(MaxNameChars, tokens[k].Length);
        }
    }

    /// <summary>The pointer as configured (escaped).</summary>
    public string Text { get; }

    /// <summary>The number of reference tokens; 0 for the whole document.</summary>
    public int Length => _tokens.Length;

    /// <summary>The longest token in UTF-16 units: sizes the buffer names are decoded into for comparison.</summary>
    public int MaxNameChars { get; }

    /// <summary>Token <paramref name="k"/>, unescaped.</summary>
    public string Token(int k) => _tokens[k];

    /// <summary>Token <paramref name="k"/> as the property name it selects in an object.</summary>
    public JsonRuleName Name(int k) => _names[k];

    /// <summary>Token <paramref name="k"/> as the element index it selects in an array, or -1 for none.</summary>
    public int Index(int k) => _indices[k];

    public static bool TryParse(string pointer, [NotNullWhen(true)] out JsonPointer? result, [NotNullWhen(false)] out string? error)
    {
        if (!TrySplit(pointer, out var tokens, out error))
        {
            result = null;
            return false;
        }

        result = new JsonPointer(pointer, tokens);
        return true;
    }

    /// <summary>Validates a pointer's syntax and splits it into unescaped tokens.</summary>
    internal static bool TrySplit(string pointer, [NotNullWhen(true)] out string[]? tokens, [NotNullWhen(false)] out string? error)
    {
        tokens = null;
        if (pointer is null)
        {
            error = "the JSON pointer is missing";
            return false;
        }

        if (pointer.Length == 0)
        {
            tokens = [];
            error = null;
            return true;
        }

        if (pointer[0] != '/')
        {
            error = "a JSON pointer must be empty or start with '/'";
            return false;
        }

        var parts = pointer[1..].Split('/');
        var sb = new StringBuilder();
        for (int t = 0; t < parts.Length; t++)
        {
            sb.Clear();
            string part = parts[t];
            for (int i = 0; i < part.Length; i++)
            {
                char c = part[i];
                if (c != '~')
                {
                    sb.Append(c);
                    continue;
                }

                char next = i + 1 < part.Length ? part[i + 1] : '\0';
                if (next is not ('0' or '1'))
                {
                    error = $"'~' must be followed by '0' or '1' in JSON pointer token {t + 1}";
                    return false;
                }

                sb.Append(next == '0' ? '~' : '/');
                i++;
            }

            parts[t] = sb.ToString();
        }

        tokens = parts;
        error = null;
        return true;
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
}
