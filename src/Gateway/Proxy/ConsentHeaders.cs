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
            if (header.Key.Length >= 10 && header.Key.AsSpan(0, 2).Equals("X-", StringComparison.OrdinalIgnoreCase) | header.Key.AsSpan(0, 2).Equals("X_", StringComparison.OrdinalIgnoreCase)
                && header.Key.AsSpan(2, 8).Equals("Consent-", StringComparison.OrdinalIgnoreCase) | header.Key.AsSpan(2, 8).Equals("Consent_", StringComparison.OrdinalIgnoreCase))
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
}
