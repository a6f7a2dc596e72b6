using ConsentGateway.Enforcement;
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
/// one value, no list, and no other spelling of the name (see <see cref="HeaderSpelling"/>). Anything else is ambiguous and rejected, never
/// resolved to the most permissive reading (SPEC §4).
/// </summary>
internal static class SingleValueHeader
{
    public static SingleValue Read(IHeaderDictionary headers, string name, out string value) => Read(headers, name, out value, out _);

    /// <param name="spelling">The spelling of <paramref name="name"/> the request used (matched case-insensitively), when exactly one was present.</param>
    public static SingleValue Read(IHeaderDictionary headers, string name, out string value, out string? spelling)
    {
        value = string.Empty;
        spelling = null;
        if (HeaderSpelling.Variants(name) is { } variants)
        {
            // Each spelling looked up (case-insensitively); two present spellings are ambiguous.
            StringValues values = default;
            foreach (var variant in variants)
            {
                if (headers.TryGetValue(variant, out var v))
                {
                    if (spelling is not null)
                    {
                        spelling = null;
                        return SingleValue.Ambiguous;
                    }

                    spelling = variant;
                    values = v;
                }
            }

            return spelling is not null ? Single(values, out value) : SingleValue.Missing;
        }

        string? key = null;
        foreach (var header in headers)
        {
            if (HeaderSpelling.Same(header.Key, name))
            {
                if (key is not null)
                {
                    // X-Subject-Id and X_Subject_Id together: which one would the upstream read?
                    return SingleValue.Ambiguous;
                }

                key = header.Key;
            }
        }

        spelling = key;
        return key is null ? SingleValue.Missing : Single(headers[key], out value);
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
