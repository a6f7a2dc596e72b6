using ConsentGateway.Policy;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.WebUtilities;

namespace ConsentGateway.Enforcement;

/// <summary>
/// Header and query-string rules (<c>header:NAME</c>, <c>query:NAME</c>). Names match
/// case-insensitively, as HTTP and ASP.NET model binding do; a header's underscore spelling is
/// treated as the same header because many servers fold the two together.
/// </summary>
internal static class HeaderFieldFilter
{
    /// <summary>Applies denied header rules in place (unless <paramref name="reportOnly"/>). Returns the rules that withheld something.</summary>
    public static ulong Apply(IHeaderDictionary headers, FieldRule[] rules, ulong deniedMask, bool reportOnly, Pseudonymizer pseudonymizer, string subject, ref bool blocked)
    {
        ulong withheld = 0;
        foreach (var rule in rules)
        {
            if ((deniedMask & (1UL << rule.Index)) == 0)
            {
                continue;
            }

            var hit = ApplyOne(headers, rule.Name!, rule, reportOnly, pseudonymizer, subject, ref blocked);
            hit |= ApplyOne(headers, rule.NameAlias!, rule, reportOnly, pseudonymizer, subject, ref blocked);
            if (hit)
            {
                withheld |= 1UL << rule.Index;
            }
        }

        return withheld;
    }

    /// <summary>
    /// Applies denied query rules. Returns the rewritten query string (or null when unchanged) and
    /// the rules that withheld something.
    /// </summary>
    public static ulong ApplyQuery(HttpRequest request, FieldRule[] rules, ulong deniedMask, bool reportOnly, Pseudonymizer pseudonymizer, string subject, ref bool blocked)
    {
        if (!request.QueryString.HasValue || (deniedMask & MaskOf(rules)) == 0)
        {
            return 0;
        }

        ulong withheld = 0;
        var builder = new QueryBuilder();
        var changed = false;
        // Parsing decodes names, so "%65mail" is matched as "email": what the backend will bind.
        foreach (var (name, values) in QueryHelpers.ParseQuery(request.QueryString.Value))
        {
            var rule = Find(rules, deniedMask, name);
            if (rule is null)
            {
                builder.Add(name, (IEnumerable<string>)values.ToArray()!);
                continue;
            }

            withheld |= 1UL << rule.Index;
            changed = true;
            switch (rule.DeniedAction)
            {
                case FieldAction.Block:
                    blocked = true;
                    break;
                case FieldAction.Redact:
                    builder.Add(name, string.Empty);
                    break;
                case FieldAction.Hash:
                    foreach (var v in values)
                    {
                        builder.Add(name, pseudonymizer.Pseudonymise(subject, v ?? string.Empty));
                    }

                    break;
            }
        }

        if (changed && !reportOnly && !blocked)
        {
            request.QueryString = builder.ToQueryString();
        }

        return withheld;
    }

    private static bool ApplyOne(IHeaderDictionary headers, string name, FieldRule rule, bool reportOnly, Pseudonymizer pseudonymizer, string subject, ref bool blocked)
    {
        if (!headers.TryGetValue(name, out var values) || values.Count == 0)
        {
            return false;
        }

        if (rule.DeniedAction == FieldAction.Block)
        {
            blocked = true;
            return true;
        }

        if (reportOnly)
        {
            return true;
        }

        switch (rule.DeniedAction)
        {
            case FieldAction.Strip:
                headers.Remove(name);
                break;
            case FieldAction.Redact:
                headers[name] = string.Empty;
                break;
            case FieldAction.Hash:
                var hashed = new string[values.Count];
                for (var i = 0; i < hashed.Length; i++)
                {
                    hashed[i] = pseudonymizer.Pseudonymise(subject, values[i] ?? string.Empty);
                }

                headers[name] = hashed;
                break;
        }

        return true;
    }

    private static FieldRule? Find(FieldRule[] rules, ulong deniedMask, string name)
    {
        foreach (var rule in rules)
        {
            if ((deniedMask & (1UL << rule.Index)) != 0 && string.Equals(rule.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return rule;
            }
        }

        return null;
    }

    private static ulong MaskOf(FieldRule[] rules)
    {
        ulong mask = 0;
        foreach (var r in rules)
        {
            mask |= 1UL << r.Index;
        }

        return mask;
    }
}
