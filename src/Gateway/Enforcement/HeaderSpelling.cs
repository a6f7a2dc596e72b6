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
        foreach (var header in headers)
        {
            if (Same(header.Key, name))
            {
                (found ??= new List<string>(1)).Add(header.Key);
            }
        }

        return found;
    }
}
