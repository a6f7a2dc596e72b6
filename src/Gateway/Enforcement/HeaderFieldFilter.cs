using ConsentGateway.Policy;

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

            if (HeaderSpelling.Present(headers, rule.Name!) is not { } names)
            {
                continue;
            }

            withheld |= 1UL << rule.Index;
            foreach (var name in names)
            {
                ApplyOne(headers, name, rule, reportOnly, pseudonymizer, subject, ref blocked);
            }
        }

        return withheld;
    }

    /// <summary>
    /// Applies denied query rules, rewriting only the parameters a rule withholds: every other
    /// segment keeps its original text and position. Returns the rules that withheld something.
    /// </summary>
    public static ulong ApplyQuery(HttpRequest request, FieldRule[] rules, ulong deniedMask, bool reportOnly, Pseudonymizer pseudonymizer, string subject, ref bool blocked)
    {
        var query = request.QueryString.Value;
        if (string.IsNullOrEmpty(query) || query.Length < 2)
        {
            return 0;
        }

        ulong withheld = 0;
        var rewritten = new System.Text.StringBuilder(query.Length);
        foreach (var segment in query.AsSpan(1).Split('&'))
        {
            var text = query.AsSpan(1)[segment];
            var equals = text.IndexOf('=');
            var rawName = equals < 0 ? text : text[..equals];
            // Match the decoded name ("%65mail" is "email"): what the backend will bind.
            var rule = Find(rules, deniedMask, Decode(rawName));
            string? replacement = null;
            if (rule is not null)
            {
                withheld |= 1UL << rule.Index;
                switch (rule.DeniedAction)
                {
                    case FieldAction.Block:
                        blocked = true;
                        break;
                    case FieldAction.Redact:
                        replacement = string.Concat(rawName, "=");
                        break;
                    case FieldAction.Hash:
                        var value = equals < 0 ? string.Empty : Decode(text[(equals + 1)..]);
                        replacement = string.Concat(rawName, "=", pseudonymizer.Pseudonymise(subject, value));
                        break;
                    default:
                        continue;
                }
            }

            if (text.IsEmpty)
            {
                continue;
            }

            rewritten.Append(rewritten.Length == 0 ? '?' : '&');
            if (replacement is null)
            {
                rewritten.Append(text);
            }
            else
            {
                rewritten.Append(replacement);
            }
        }

        if (withheld != 0 && !reportOnly && !blocked)
        {
            request.QueryString = new QueryString(rewritten.Length == 0 ? null : rewritten.ToString());
        }

        return withheld;
    }

    private static string Decode(ReadOnlySpan<char> component) => Uri.UnescapeDataString(component.ToString().Replace('+', ' '));

    private static void ApplyOne(IHeaderDictionary headers, string name, FieldRule rule, bool reportOnly, Pseudonymizer pseudonymizer, string subject, ref bool blocked)
    {
        var values = headers[name];
        if (rule.DeniedAction == FieldAction.Block)
        {
            blocked = true;
            return;
        }

        if (reportOnly)
        {
            return;
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
}
