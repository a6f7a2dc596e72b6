using ConsentGateway.Policy;

namespace ConsentGateway.Proxy;

/// <summary>
/// Per-request state shared by the request middleware and the response transform: who asked,
/// for what, about whom, and what was decided. Stored as an HttpContext feature.
/// </summary>
internal sealed class ConsentExchange
{
    public required RoutePolicy Route { get; init; }

    public required Purpose Purpose { get; init; }

    public required string Subject { get; init; }

    public required byte[] SubjectUtf8 { get; init; }

    /// <summary>Bit per rule index: denied for this purpose and consent state.</summary>
    public required ulong DeniedMask { get; init; }

    public required int MaxResponseBodyBytes { get; init; }

    /// <summary>Bit per rule index: withheld (or, in report mode, would have been) so far.</summary>
    public ulong WithheldMask { get; set; }

    public ulong RequestWithheldMask { get; set; }

    public bool Blocked { get; set; }

    /// <summary>Set when the response side returned its own error instead of the upstream body.</summary>
    public bool ResponseFailed { get; set; }

    public bool IsReport => Route.Mode == EnforcementMode.Report;

    public string WithheldCategories(ulong mask)
    {
        if (mask == 0)
        {
            return string.Empty;
        }

        return string.Join(',', CategoryList(mask));
    }

    /// <summary>Distinct categories in rule order; allocates, but only when something is withheld.</summary>
    public List<string> CategoryList(ulong mask)
    {
        var seen = new List<string>(4);
        foreach (var rule in Route.Rules)
        {
            if ((mask & (1UL << rule.Index)) != 0 && !seen.Contains(rule.Category))
            {
                seen.Add(rule.Category);
            }
        }

        return seen;
    }
}
