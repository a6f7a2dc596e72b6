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

    public string WithheldCategories(ulong mask) => mask == 0 ? string.Empty : Route.CategoryText(mask);

    /// <summary>Distinct categories in rule order; allocates, but only when something is withheld.</summary>
    public List<string> CategoryList(ulong mask) => Route.CategoryList(mask);
}
