using System.Net.Http.Headers;

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
        headers[Decision] = DecisionFor(exchange, withheld);
        if (withheld != 0)
        {
            headers[WithheldHeaderFor(exchange)] = exchange.WithheldCategories(withheld);
        }
    }

    /// <summary>403 naming the denied categories (never the values), in the body and in the consent headers.</summary>
    public static Task WriteBlockedAsync(HttpContext context, List<string> categories) =>
        Hosting.Problem.Blocked.WriteAsync(context, extensionName: "categories", extensions: categories, headers:
        [
            new(Decision, "blocked"),
            new(Withheld, string.Join(',', categories)),
        ]);

    /// <summary>The same statement on the request forwarded upstream.</summary>
    public static void Describe(HttpHeaders headers, ConsentExchange exchange, ulong withheld)
    {
        headers.TryAddWithoutValidation(Decision, DecisionFor(exchange, withheld));
        if (withheld != 0)
        {
            headers.TryAddWithoutValidation(WithheldHeaderFor(exchange), exchange.WithheldCategories(withheld));
        }
    }

    private static string DecisionFor(ConsentExchange exchange, ulong withheld) => withheld == 0 || exchange.IsReport ? Allowed : Filtered;

    private static string WithheldHeaderFor(ConsentExchange exchange) => exchange.IsReport ? WouldWithhold : Withheld;

    /// <summary>
    /// Removes every X-Consent-* header (and X_Consent_* spelling) from a request about to be forwarded,
    /// so nobody upstream can be handed a forged statement of the gateway's. Scans the outgoing message's
    /// own header store: its enumerator is a struct, where enumerating the incoming IHeaderDictionary
    /// allocates one on every request.
    /// </summary>
    public static void RemoveForged(HttpRequestMessage request)
    {
        List<string>? forged = null;
        Collect(request.Headers, ref forged);
        Collect(request.Content?.Headers, ref forged);
        if (forged is not null)
        {
            foreach (var name in forged)
            {
                request.Headers.Remove(name);
                request.Content?.Headers.Remove(name);
            }
        }
    }

    /// <summary>
    /// Removes from the response every X-Consent-* header the upstream sent, which YARP has already copied
    /// into <paramref name="response"/>: the names are found in the upstream message (struct enumerators).
    /// </summary>
    public static void RemoveForged(HttpResponseMessage upstream, IHeaderDictionary response)
    {
        List<string>? forged = null;
        Collect(upstream.Headers, ref forged);
        Collect(upstream.Content.Headers, ref forged);
        if (forged is not null)
        {
            foreach (var name in forged)
            {
                response.Remove(name);
            }
        }
    }

    private static void Collect(HttpHeaders? headers, ref List<string>? forged)
    {
        if (headers is null)
        {
            return;
        }

        foreach (var header in headers.NonValidated)
        {
            if (IsConsentHeader(header.Key))
            {
                (forged ??= []).Add(header.Key);
            }
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
