using Microsoft.Extensions.Primitives;

namespace ConsentGateway.Proxy;

internal enum SingleValue : byte
{
    Present,
    Missing,
    Ambiguous,
}

/// <summary>
/// Reads identity-bearing headers (API key, purpose, subject) strictly: exactly one header line,
/// one value, no list, and no underscore twin. Anything else is ambiguous and rejected, never
/// resolved to the most permissive reading (SPEC §4).
/// </summary>
internal static class SingleValueHeader
{
    public static SingleValue Read(IHeaderDictionary headers, string name, string underscoreAlias, out string value)
    {
        value = string.Empty;
        var hasAlias = !ReferenceEquals(name, underscoreAlias) && !string.Equals(name, underscoreAlias, StringComparison.Ordinal)
            && headers.ContainsKey(underscoreAlias);
        if (!headers.TryGetValue(name, out var values) || values.Count == 0)
        {
            return hasAlias ? SingleValue.Ambiguous : SingleValue.Missing;
        }

        return hasAlias ? SingleValue.Ambiguous : Single(values, out value);
    }

    public static SingleValue Single(StringValues values, out string value)
    {
        value = string.Empty;
        if (values.Count != 1)
        {
            return values.Count == 0 ? SingleValue.Missing : SingleValue.Ambiguous;
        }

        var v = values[0];
        if (string.IsNullOrWhiteSpace(v))
        {
            return SingleValue.Missing;
        }

        if (v.Contains(',', StringComparison.Ordinal))
        {
            return SingleValue.Ambiguous;
        }

        value = v.Trim();
        return SingleValue.Present;
    }
}
