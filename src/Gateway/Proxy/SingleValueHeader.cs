using Microsoft.Extensions.Primitives;

namespace ConsentGateway.Proxy;

internal enum SingleValue : byte
{
    Present,
    Missing,
    Ambiguous,
}

/// <summary>
/// Reads identity-bearing values (API key, purpose, subject) strictly: exactly one header line or
/// query parameter or claim, one value, no list. Anything else is ambiguous and rejected, never
/// resolved to the most permissive reading (SPEC §4). Header names are matched in every spelling by
/// <see cref="IdentityHeaders"/>, which also refuses a second spelling.
/// </summary>
internal static class SingleValueHeader
{
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
