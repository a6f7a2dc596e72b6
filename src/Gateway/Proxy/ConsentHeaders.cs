namespace ConsentGateway.Proxy;

/// <summary>The headers through which the gateway says what it did (SPEC §4).</summary>
internal static class ConsentHeaders
{
    public const string Decision = "X-Consent-Decision";
    public const string Withheld = "X-Consent-Withheld";

    /// <summary>Report mode: what enforcement would have withheld.</summary>
    public const string WouldWithhold = "X-Consent-Would-Withhold";

    public const string Allowed = "allowed";
    public const string Filtered = "filtered";

    /// <summary>
    /// States what the gateway did: allowed or filtered, and which categories were withheld. In report
    /// mode nothing was changed, so the decision is "allowed" and the categories go in
    /// <see cref="WouldWithhold"/>.
    /// </summary>
    public static void Describe(IHeaderDictionary headers, ConsentExchange exchange, ulong withheld)
    {
        headers[Decision] = withheld == 0 || exchange.IsReport ? Allowed : Filtered;
        if (withheld != 0)
        {
            headers[exchange.IsReport ? WouldWithhold : Withheld] = exchange.WithheldCategories(withheld);
        }
    }

    /// <summary>403 naming the denied categories (never the values), in the body and in the consent headers.</summary>
    public static Task WriteBlockedAsync(HttpContext context, List<string> categories) =>
        Hosting.Problem.Blocked.WriteAsync(context, extensionName: "categories", extensions: categories, headers:
        [
            new(Decision, "blocked"),
            new(Withheld, string.Join(',', categories)),
        ]);

    /// <summary>
    /// Removes every X-Consent-* header (and X_Consent_* spelling) so nobody upstream or downstream
    /// can forge the gateway's statements.
    /// </summary>
    public static void RemoveForged(IHeaderDictionary headers)
    {
        List<string>? forged = null;
        foreach (var header in headers)
        {
            if (IsConsentHeader(header.Key))
            {
                (forged ??= []).Add(header.Key);
            }
        }

        if (forged is null)
        {
            return;
        }

        foreach (var key in forged)
        {
            headers.Remove(key);
        }
    }

    /// <summary>X-Consent-* in any case, with '-' or '_' after X and after Consent.</summary>
    internal static bool IsConsentHeader(string name)
    {
        // Every header is checked on every request both ways: the first character rules out nearly all of them.
        if (name.Length < 10 || (name[0] | 0x20) != 'x' || (name[1] != '-' && name[1] != '_') || (name[9] != '-' && name[9] != '_'))
        {
            return false;
        }

        return name.AsSpan(2, 7).Equals("Consent", StringComparison.OrdinalIgnoreCase);
    }
}
