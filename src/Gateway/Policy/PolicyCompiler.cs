using System.Collections.Frozen;
using ConsentGateway.Enforcement;
using ConsentGateway.Hosting;

namespace ConsentGateway.Policy;

/// <summary>
/// Turns the "Policy" section into a <see cref="CompiledPolicy"/>, or into a list of errors that
/// each name the configuration key at fault. Nothing half-valid is ever returned.
/// </summary>
internal static class PolicyCompiler
{
    public const int MaxPurposes = 64;
    public const int MaxRulesPerRoute = 64;
    public const int MaxSubjectLength = 256;
    private const string Root = "Policy";

    public static CompiledPolicy? Compile(IConfiguration configuration, out List<string> errors)
    {
        errors = [];
        PolicyDocument document;
        GatewayOptions gateway;
        try
        {
            document = configuration.GetSection(Root).Get<PolicyDocument>() ?? new PolicyDocument();
            gateway = configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions();
        }
        catch (InvalidOperationException ex)
        {
            // The binder's message names the key and the value it could not convert.
            errors.Add(ex.Message);
            return null;
        }

        var purposes = CompilePurposes(document, errors);
        var callers = CompileCallers(document, purposes, errors);
        var jwtConfigured = configuration.GetSection("Jwt").Exists();
        var proxyRoutes = configuration.GetSection("ReverseProxy:Routes").GetChildren().Select(r => r.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var routes = new Dictionary<string, RoutePolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var (routeId, route) in document.Routes)
        {
            var compiled = CompileRoute(routeId, route, purposes, gateway, jwtConfigured, errors);
            if (compiled is not null)
            {
                routes[routeId] = compiled;
            }

            if (!proxyRoutes.Contains(routeId))
            {
                errors.Add($"{Root}:Routes:{routeId} has no matching ReverseProxy:Routes:{routeId}.");
            }
        }

        foreach (var routeId in proxyRoutes)
        {
            if (!document.Routes.ContainsKey(routeId))
            {
                // Fail closed: a proxied route with no consent policy would forward personal data unchecked.
                errors.Add($"ReverseProxy:Routes:{routeId} has no consent policy: add {Root}:Routes:{routeId}.");
            }
        }

        if (errors.Count > 0)
        {
            return null;
        }

        var byIndex = new Purpose[purposes.Count];
        foreach (var p in purposes.Values)
        {
            byIndex[p.Index] = p;
        }

        return new CompiledPolicy
        {
            Purposes = purposes.ToFrozenDictionary(StringComparer.Ordinal),
            PurposesByIndex = byIndex,
            CallersByKeyHash = callers.ToFrozenDictionary(StringComparer.Ordinal),
            Routes = routes.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            Limits = new PolicyLimits
            {
                MaxRequestBodyBytes = gateway.MaxRequestBodyBytes,
                MaxResponseBodyBytes = gateway.MaxResponseBodyBytes,
                MaxJsonDepth = gateway.MaxJsonDepth,
            },
        };
    }

    private static Dictionary<string, Purpose> CompilePurposes(PolicyDocument document, List<string> errors)
    {
        var result = new Dictionary<string, Purpose>(StringComparer.Ordinal);
        if (document.Purposes.Count == 0)
        {
            errors.Add($"{Root}:Purposes must declare at least one purpose.");
        }

        if (document.Purposes.Count > MaxPurposes)
        {
            errors.Add($"{Root}:Purposes declares {document.Purposes.Count} purposes; at most {MaxPurposes} are supported.");
            return result;
        }

        foreach (var (name, purpose) in document.Purposes)
        {
            var key = $"{Root}:Purposes:{name}";
            var ok = true;
            if (!IsPurposeName(name))
            {
                errors.Add($"{key}: purpose names use a-z, 0-9, '-', '_' and '.' and start with a letter or digit.");
                ok = false;
            }

            if (!TryParseBasis(purpose.Basis, out var basis))
            {
                errors.Add($"{key}:Basis '{purpose.Basis}' must be one of consent, legitimate-interest, opt-out, contract, legal-obligation.");
                ok = false;
            }

            if (purpose.Categories.Count == 0)
            {
                errors.Add($"{key}:Categories must list the data categories the purpose may use.");
                ok = false;
            }

            for (var i = 0; i < purpose.Categories.Count; i++)
            {
                if (!CategoryName.IsValid(purpose.Categories[i]))
                {
                    errors.Add($"{key}:Categories:{i} '{purpose.Categories[i]}' is not a dotted category name such as user.contact.email.");
                    ok = false;
                }
            }

            if (ok)
            {
                result[name] = new Purpose { Name = name, Index = result.Count, Basis = basis, Categories = [.. purpose.Categories] };
            }
        }

        return result;
    }

    private static Dictionary<string, Caller> CompileCallers(PolicyDocument document, Dictionary<string, Purpose> purposes, List<string> errors)
    {
        var result = new Dictionary<string, Caller>(StringComparer.Ordinal);
        foreach (var (name, caller) in document.Callers)
        {
            var key = $"{Root}:Callers:{name}";
            if (!Sha256Hex.IsValid(caller.KeySha256))
            {
                errors.Add($"{key}:KeySha256 must be the lower-case hex SHA-256 of the caller's API key (64 characters).");
                continue;
            }

            ulong mask = 0;
            for (var i = 0; i < caller.Purposes.Count; i++)
            {
                if (purposes.TryGetValue(caller.Purposes[i], out var p))
                {
                    mask |= 1UL << p.Index;
                }
                else
                {
                    errors.Add($"{key}:Purposes:{i} '{caller.Purposes[i]}' is not declared under {Root}:Purposes.");
                }
            }

            if (!result.TryAdd(caller.KeySha256!, new Caller { Name = name, PurposeMask = mask }))
            {
                errors.Add($"{key}:KeySha256 is the same key as another caller's.");
            }
        }

        return result;
    }

    private static RoutePolicy? CompileRoute(string routeId, RouteDocument route, Dictionary<string, Purpose> purposes, GatewayOptions gateway, bool jwtConfigured, List<string> errors)
    {
        var key = $"{Root}:Routes:{routeId}";
        var before = errors.Count;

        var subject = route.Subject ?? new SubjectDocument();
        SubjectFrom subjectFrom = default;
        string? subjectName = subject.Name;
        JsonPointer? subjectPointer = null;
        switch (subject.From?.ToLowerInvariant())
        {
            case null or "header": subjectFrom = SubjectFrom.Header; subjectName ??= "X-Subject-Id"; break;
            case "route": subjectFrom = SubjectFrom.Route; break;
            case "query": subjectFrom = SubjectFrom.Query; break;
            case "body": subjectFrom = SubjectFrom.Body; break;
            case "jwt": subjectFrom = SubjectFrom.Jwt; subjectName ??= "sub"; break;
            default: errors.Add($"{key}:Subject:From '{subject.From}' must be header, route, query, body or jwt."); break;
        }

        if (string.IsNullOrWhiteSpace(subjectName))
        {
            errors.Add($"{key}:Subject:Name is required when Subject:From is '{subject.From}'.");
        }
        else if (subjectFrom == SubjectFrom.Body && !JsonPointer.TryParse(subjectName, out subjectPointer, out var pointerError))
        {
            errors.Add($"{key}:Subject:Name '{subjectName}' must be a JSON pointer such as /customer/id: {pointerError}");
        }

        if (subjectFrom == SubjectFrom.Jwt && !jwtConfigured)
        {
            errors.Add($"{key}:Subject:From is jwt but no Jwt section (Issuer, Audience, SigningKey) is configured.");
        }

        Purpose? fixedPurpose = null;
        var purposeHeader = route.Purpose?.Name ?? "X-Purpose";
        if (route.Purpose?.Fixed is { } fixedName)
        {
            if (!purposes.TryGetValue(fixedName, out fixedPurpose))
            {
                errors.Add($"{key}:Purpose:Fixed '{fixedName}' is not declared under {Root}:Purposes.");
            }
        }
        else if (route.Purpose?.From is { } from && !from.Equals("header", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:Purpose:From '{from}' must be header (or set Purpose:Fixed).");
        }

        var direction = ParseOr(route.Direction, Direction.Both, $"{key}:Direction", errors, ("request", Direction.Request), ("response", Direction.Response), ("both", Direction.Both));
        var action = ParseAction(route.Action, FieldAction.Strip, $"{key}:Action", errors);
        var mode = ParseOr(route.Mode, EnforcementMode.Enforce, $"{key}:Mode", errors, ("enforce", EnforcementMode.Enforce), ("report", EnforcementMode.Report));

        if (route.Fields.Count > MaxRulesPerRoute)
        {
            errors.Add($"{key}:Fields has {route.Fields.Count} rules; at most {MaxRulesPerRoute} are supported per route.");
            return null;
        }

        var rules = new FieldRule[route.Fields.Count];
        for (var i = 0; i < route.Fields.Count; i++)
        {
            rules[i] = CompileField(route.Fields[i], i, action, direction, $"{key}:Fields:{i}", errors)!;
        }

        if (errors.Count > before)
        {
            return null;
        }

        var declared = new ulong[purposes.Count];
        foreach (var p in purposes.Values)
        {
            foreach (var r in rules)
            {
                if (p.Declares(r.Category))
                {
                    declared[p.Index] |= 1UL << r.Index;
                }
            }
        }

        DirectionRules request, response;
        try
        {
            request = (direction & Direction.Request) != 0 ? BuildDirection(rules, Direction.Request, route.CaseSensitive, gateway.MaxJsonDepth) : DirectionRules.None;
            response = (direction & Direction.Response) != 0 ? BuildDirection(rules, Direction.Response, route.CaseSensitive, gateway.MaxJsonDepth) : DirectionRules.None;
        }
        catch (ArgumentException ex)
        {
            // The body filter refuses path sets it cannot compile (see JsonPathAutomaton.MaxStates).
            errors.Add($"{key}:Fields: {ex.Message}");
            return null;
        }

        return new RoutePolicy
        {
            RouteId = routeId,
            SubjectFrom = subjectFrom,
            SubjectName = subjectName!,
            SubjectPointer = subjectPointer,
            FixedPurpose = fixedPurpose,
            PurposeHeader = purposeHeader,
            Mode = mode,
            CaseSensitive = route.CaseSensitive,
            Rules = rules,
            Request = request,
            Response = response,
            DeclaredByPurpose = declared,
        };
    }

    private static FieldRule? CompileField(FieldDocument field, int index, FieldAction routeAction, Direction direction, string key, List<string> errors)
    {
        var category = field.Category;
        if (!CategoryName.IsValid(category))
        {
            errors.Add($"{key}:Category '{category}' is not a dotted category name such as user.contact.email.");
        }

        var action = ParseAction(field.Action, routeAction, $"{key}:Action", errors);
        var text = field.Path ?? string.Empty;
        if (text.StartsWith("header:", StringComparison.OrdinalIgnoreCase))
        {
            var name = text["header:".Length..];
            if (!IsToken(name))
            {
                errors.Add($"{key}:Path '{text}' names no valid header.");
            }

            return new FieldRule { Index = index, Category = category!, Location = FieldLocation.Header, Name = name, DeniedAction = action, Text = text };
        }

        if (text.StartsWith("query:", StringComparison.OrdinalIgnoreCase))
        {
            var name = text["query:".Length..];
            if (name.Length == 0)
            {
                errors.Add($"{key}:Path '{text}' names no query parameter.");
            }

            if ((direction & Direction.Request) == 0)
            {
                errors.Add($"{key}:Path '{text}': query rules apply to requests, but the route's Direction is response.");
            }

            return new FieldRule { Index = index, Category = category!, Location = FieldLocation.Query, Name = name, DeniedAction = action, Text = text };
        }

        if (!JsonPath.TryParse(text, out var path, out var error))
        {
            errors.Add($"{key}:Path '{text}' is not a valid path: {error}");
            return null;
        }

        return new FieldRule { Index = index, Category = category!, Location = FieldLocation.Body, Path = path, DeniedAction = action, Text = text };
    }

    private static DirectionRules BuildDirection(FieldRule[] rules, Direction direction, bool caseSensitive, int maxDepth)
    {
        var body = new List<FieldRule>();
        var headers = new List<FieldRule>();
        var query = new List<FieldRule>();
        foreach (var r in rules)
        {
            switch (r.Location)
            {
                case FieldLocation.Body: body.Add(r); break;
                case FieldLocation.Header: headers.Add(r); break;
                case FieldLocation.Query when direction == Direction.Request: query.Add(r); break;
            }
        }

        var filter = body.Count == 0 ? null : new JsonFieldFilter(body.Select(r => r.Path!).ToArray(), caseSensitive, maxDepth);
        return new DirectionRules([.. body], [.. headers], filter, [.. query]);
    }

    private static FieldAction ParseAction(string? text, FieldAction fallback, string key, List<string> errors) =>
        ParseOr(text, fallback, key, errors, ("strip", FieldAction.Strip), ("redact", FieldAction.Redact), ("hash", FieldAction.Hash), ("block", FieldAction.Block));

    private static T ParseOr<T>(string? text, T fallback, string key, List<string> errors, params (string Name, T Value)[] choices)
    {
        if (text is null)
        {
            return fallback;
        }

        foreach (var (name, value) in choices)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        errors.Add($"{key} '{text}' must be one of {string.Join(", ", choices.Select(c => c.Name))}.");
        return fallback;
    }

    private static bool TryParseBasis(string? text, out LegalBasis basis)
    {
        basis = text?.ToLowerInvariant() switch
        {
            "consent" => LegalBasis.Consent,
            "legitimate-interest" => LegalBasis.LegitimateInterest,
            "opt-out" => LegalBasis.OptOut,
            "contract" => LegalBasis.Contract,
            "legal-obligation" => LegalBasis.LegalObligation,
            _ => (LegalBasis)255,
        };
        return basis != (LegalBasis)255;
    }

    internal static bool IsPurposeName(string name)
    {
        if (name.Length is 0 or > 64 || !(char.IsAsciiLetterLower(name[0]) || char.IsAsciiDigit(name[0])))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsToken(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return true;
    }
}
