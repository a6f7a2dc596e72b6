namespace ConsentGateway.Policy;

// Shapes bound from the "Policy" configuration section. They are mutable only so the
// configuration binder can fill them; PolicyCompiler validates them into the immutable
// CompiledPolicy the request path uses.

internal sealed class PolicyDocument
{
    public Dictionary<string, PurposeDocument> Purposes { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, CallerDocument> Callers { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, RouteDocument> Routes { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

internal sealed class PurposeDocument
{
    public string? Basis { get; set; }

    public List<string> Categories { get; set; } = [];

    public string? Description { get; set; }
}

internal sealed class CallerDocument
{
    /// <summary>Lower-case hex SHA-256 of the caller's API key (the key itself is never stored).</summary>
    public string? KeySha256 { get; set; }

    public List<string> Purposes { get; set; } = [];
}

internal sealed class RouteDocument
{
    public SubjectDocument? Subject { get; set; }

    public PurposeSourceDocument? Purpose { get; set; }

    public string? Direction { get; set; }

    public string? Action { get; set; }

    public string? Mode { get; set; }

    public bool CaseSensitive { get; set; }

    public List<FieldDocument> Fields { get; set; } = [];
}

internal sealed class SubjectDocument
{
    /// <summary>header (default), route, query, body, jwt.</summary>
    public string? From { get; set; }

    /// <summary>Header name, route value name, query parameter, JSON pointer or claim type.</summary>
    public string? Name { get; set; }
}

internal sealed class PurposeSourceDocument
{
    /// <summary>header (default, X-Purpose) or fixed.</summary>
    public string? From { get; set; }

    public string? Name { get; set; }

    public string? Fixed { get; set; }
}

internal sealed class FieldDocument
{
    public string? Path { get; set; }

    public string? Category { get; set; }

    public string? Action { get; set; }
}
