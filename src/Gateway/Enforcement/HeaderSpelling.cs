namespace ConsentGateway.Enforcement;

/// <summary>
/// Many servers (CGI, WSGI, nginx with underscores enabled) fold every '-' and '_' of a header name
/// into one character, so <c>X-Device-Id</c>, <c>X_Device_Id</c> and <c>X-Device_Id</c> all reach the
/// application as the same header. The gateway must treat them as one too: never resolve one
/// spelling while the upstream reads another, never filter one and forward another.
/// </summary>
internal static class HeaderSpelling
{
    public static bool Same(string a, string b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            var x = a[i];
            var y = b[i];
            if (x == y)
            {
                continue;
            }

            if ((x is '-' or '_') && (y is '-' or '_'))
            {
                continue;
            }

            if (char.ToLowerInvariant(x) != char.ToLowerInvariant(y))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Every header name present that is a spelling of <paramref name="name"/>; null when none.</summary>
    public static List<string>? Present(IHeaderDictionary headers, string name)
    {
        List<string>? found = null;
        if (Variants(name) is { } variants)
        {
            foreach (var variant in variants)
            {
                if (headers.ContainsKey(variant))
                {
                    (found ??= new List<string>(1)).Add(variant);
                }
            }

            return found;
        }

        foreach (var header in headers)
        {
            if (Same(header.Key, name))
            {
                (found ??= new List<string>(1)).Add(header.Key);
            }
        }

        return found;
    }

    /// <summary>
    /// The spellings of <paramref name="name"/> that differ only in '-' against '_' (case is left to
    /// the header dictionary, which compares names case-insensitively, as <see cref="Same"/> does for
    /// ASCII names); null when the name has more than <see cref="MaxSeparators"/> separators. Looking
    /// these up replaces enumerating the headers: each enumeration of Kestrel's headers through
    /// IHeaderDictionary after the first of a request allocates an enumerator box.
    /// </summary>
    public static string[]? Variants(string name)
    {
        if (VariantCache.TryGetValue(name, out var variants))
        {
            return variants;
        }

        variants = BuildVariants(name);
        if (VariantCache.Count < MaxCachedNames)
        {
            VariantCache.TryAdd(name, variants);
        }

        return variants;
    }

    /// <summary>Beyond this, 2^n spellings cost more to look up than one pass over the headers.</summary>
    public const int MaxSeparators = 4;

    // Names come from the policy (API key, purpose and subject headers, header rules), so few exist; the
    // bound only keeps a policy reloaded many times with new names from growing the cache for ever.
    private const int MaxCachedNames = 1024;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string[]?> VariantCache = new(StringComparer.Ordinal);

    private static string[]? BuildVariants(string name)
    {
        Span<int> separators = stackalloc int[MaxSeparators];
        var count = 0;
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] is '-' or '_')
            {
                if (count == MaxSeparators)
                {
                    return null;
                }

                separators[count++] = i;
            }
        }

        var variants = new string[1 << count];
        var chars = name.ToCharArray();
        for (var mask = 0; mask < variants.Length; mask++)
        {
            for (var b = 0; b < count; b++)
            {
                chars[separators[b]] = (mask & (1 << b)) == 0 ? '-' : '_';
            }

            variants[mask] = new string(chars);
        }

        return variants;
    }
}
