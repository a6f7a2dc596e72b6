using System.Collections.Frozen;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Policy;

internal enum LegalBasis : byte
{
    Consent,
    LegitimateInterest,
    OptOut,
    Contract,
    LegalObligation,
}

internal enum EnforcementMode : byte
{
    Enforce,
    Report,
}

internal enum SubjectFrom : byte
{
    Header,
    Route,
    Query,
    Body,
    Jwt,
}

internal enum FieldLocation : byte
{
    Body,
    Header,
    Query,
}

internal sealed class Purpose
{
    public required string Name { get; init; }

    public required int Index { get; init; }

    public required LegalBasis Basis { get; init; }

    public required string[] Categories { get; init; }

    public bool Declares(string category)
    {
        foreach (var declared in Categories)
        {
            if (CategoryName.Covers(declared, category))
            {
                return true;
            }
        }

        return false;
    }
}

internal sealed class Caller
{
    public required string Name { get; init; }

    /// <summary>Bit i set when the caller may declare the purpose with index i.</summary>
    public required ulong PurposeMask { get; init; }

    public bool MayUse(Purpose purpose) => (PurposeMask & (1UL << purpose.Index)) != 0;
}

/// <summary>One personal field: where it sits, its category, what to do when it is denied.</summary>
internal sealed class FieldRule
{
    public required int Index { get; init; }

    public required string Category { get; init; }

    public required FieldLocation Location { get; init; }

    /// <summary>Header or query parameter name; null for body rules.</summary>
    public string? Name { get; init; }

    /// <summary>Body rules only.</summary>
    public JsonPath? Path { get; init; }

    public required FieldAction DeniedAction { get; init; }

    /// <summary>The text from configuration, for messages.</summary>
    public required string Text { get; init; }
}

/// <summary>The rules that apply to one direction of one route, ready for the hot path.</summary>
internal sealed class DirectionRules
{
    public static readonly DirectionRules None = new([], [], null, []);

    public DirectionRules(FieldRule[] bodyRules, FieldRule[] headerRules, JsonFieldFilter? bodyFilter, FieldRule[] queryRules)
    {
        BodyRules = bodyRules;
        HeaderRules = headerRules;
        BodyFilter = bodyFilter;
        QueryRules = queryRules;
        foreach (var r in bodyRules)
        {
            Mask |= 1UL << r.Index;
        }

        foreach (var r in headerRules)
        {
            Mask |= 1UL << r.Index;
        }

        foreach (var r in queryRules)
        {
            Mask |= 1UL << r.Index;
        }
    }

    /// <summary>Body rules, in the order of the filter's path indices.</summary>
    public FieldRule[] BodyRules { get; }

    public FieldRule[] HeaderRules { get; }

    public FieldRule[] QueryRules { get; }

    public JsonFieldFilter? BodyFilter { get; }

    /// <summary>Bit per <see cref="FieldRule.Index"/> of every rule in this direction.</summary>
    public ulong Mask { get; }

    public bool HasBodyRules => BodyFilter is not null;

    public bool IsEmpty => Mask == 0;
}

internal sealed class RoutePolicy
{
    public required string RouteId { get; init; }

    public required SubjectFrom SubjectFrom { get; init; }

    /// <summary>Header, route value, query parameter, JSON pointer or claim type.</summary>
    public required string SubjectName { get; init; }

    /// <summary>
    /// <see cref="SubjectName"/> parsed, when the subject comes from the body: parsed once here so that
    /// reading the subject costs no parsing or allocation per request.
    /// </summary>
    public JsonPointer? SubjectPointer { get; init; }

    /// <summary>Fixed purpose for the route, or null to read <see cref="PurposeHeader"/>.</summary>
    public Purpose? FixedPurpose { get; init; }

    public required string PurposeHeader { get; init; }


    public required EnforcementMode Mode { get; init; }

    /// <summary>Match JSON property names case-sensitively (default off: backends bind case-insensitively).</summary>
    public required bool CaseSensitive { get; init; }

    public required FieldRule[] Rules { get; init; }

    public required DirectionRules Request { get; init; }

    public required DirectionRules Response { get; init; }

    /// <summary>Per purpose index: bit i set when the purpose declares rule i's category (purpose limitation).</summary>
    public required ulong[] DeclaredByPurpose { get; init; }

    public ulong AllRulesMask => Request.Mask | Response.Mask;

    /// <summary>Distinct categories of the rules in <paramref name="mask"/>, in rule order.</summary>
    public List<string> CategoryList(ulong mask)
    {
        var seen = new List<string>(4);
        foreach (var rule in Rules)
        {
            if ((mask & (1UL << rule.Index)) != 0 && !seen.Contains(rule.Category))
            {
                seen.Add(rule.Category);
            }
        }

        return seen;
    }

    /// <summary>
    /// <see cref="CategoryList"/> joined with commas, as the consent headers carry it. A route sees
    /// few distinct masks, so the strings are kept (up to <see cref="MaxCachedCategoryTexts"/>)
    /// rather than rebuilt for every response.
    /// </summary>
    public string CategoryText(ulong mask)
    {
        if (_categoryText.TryGetValue(mask, out var text))
        {
            return text;
        }

        text = string.Join(',', CategoryList(mask));
        if (Volatile.Read(ref _categoryTextCount) < MaxCachedCategoryTexts && _categoryText.TryAdd(mask, text))
        {
            Interlocked.Increment(ref _categoryTextCount);
        }

        return text;
    }

    private const int MaxCachedCategoryTexts = 256;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, string> _categoryText = new();
    private int _categoryTextCount;
}

/// <summary>An immutable, validated policy. Swapped atomically on reload.</summary>
internal sealed class CompiledPolicy
{
    public required FrozenDictionary<string, Purpose> Purposes { get; init; }

    public required Purpose[] PurposesByIndex { get; init; }

    /// <summary>Callers by lower-case hex SHA-256 of their key.</summary>
    public required FrozenDictionary<string, Caller> CallersByKeyHash { get; init; }

    /// <summary>Keys that already matched <see cref="CallersByKeyHash"/>; see <see cref="VerifiedCallerKeys"/>.</summary>
    public VerifiedCallerKeys VerifiedKeys { get; } = new();

    public required FrozenDictionary<string, RoutePolicy> Routes { get; init; }

    public required PolicyLimits Limits { get; init; }
}

internal sealed class PolicyLimits
{
    public required int MaxRequestBodyBytes { get; init; }

    public required int MaxResponseBodyBytes { get; init; }

    public required int MaxJsonDepth { get; init; }
}
