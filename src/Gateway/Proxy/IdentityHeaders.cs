using ConsentGateway.Enforcement;
using ConsentGateway.Policy;
using Microsoft.Extensions.Primitives;

namespace ConsentGateway.Proxy;

/// <summary>
/// One identity-bearing header of a request, as <see cref="IdentityHeaders"/> found it: the spelling it
/// came in and its values, or that more than one spelling came.
/// </summary>
internal struct IdentityHeader
{
    /// <summary>The spelling the request used, when exactly one spelling of the name came.</summary>
    public string? Spelling;

    private StringValues values;
    private bool severalSpellings;

    /// <summary>Same rules as <see cref="SingleValueHeader"/>: one spelling, one line, one value.</summary>
    public readonly SingleValue Read(out string value)
    {
        if (severalSpellings)
        {
            // X-Subject-Id and X_Subject_Id together: which one would the upstream read?
            value = string.Empty;
            return SingleValue.Ambiguous;
        }

        if (Spelling is null)
        {
            value = string.Empty;
            return SingleValue.Missing;
        }

        return SingleValueHeader.Single(values, out value);
    }

    internal void Offer(string name, in StringValues headerValues)
    {
        if (Spelling is not null || severalSpellings)
        {
            Spelling = null;
            severalSpellings = true;
            return;
        }

        Spelling = name;
        values = headerValues;
    }
}

/// <summary>
/// The API key, purpose and subject headers of one request, found in one pass over its header names.
/// Each is matched in every '-'/'_' spelling and any case (see <see cref="HeaderSpelling"/>). Looking up
/// each spelling in the header store instead took ten lookups per request, most of them misses that
/// Kestrel first compares with every known header of the same length: 2-4 µs per request in session 12's
/// profile, against one enumeration of the handful of headers a request carries.
/// </summary>
/// <remarks>
/// Every header is offered to every name it is a spelling of; what counts as ambiguous is unchanged
/// (<see cref="IdentityHeader.Read"/>). Kestrel keeps one entry per name regardless of case, so two
/// lines differing only in case arrive as one header with two values, which is ambiguous too.
/// </remarks>
internal struct IdentityHeaders
{
    public IdentityHeader ApiKey;
    public IdentityHeader Purpose;
    public IdentityHeader Subject;

    /// <param name="purposeHeader">Null when the route has a fixed purpose.</param>
    /// <param name="subjectHeader">Null when the route does not take its subject from a header.</param>
    public static IdentityHeaders Find(IHeaderDictionary headers, string apiKeyHeader, string? purposeHeader, string? subjectHeader)
    {
        var found = default(IdentityHeaders);
        var keyLength = apiKeyHeader.Length;
        var purposeLength = purposeHeader?.Length ?? -1;
        var subjectLength = subjectHeader?.Length ?? -1;
        foreach (var header in headers)
        {
            var name = header.Key;
            var length = name.Length;
            if (length == keyLength && HeaderSpelling.Same(name, apiKeyHeader))
            {
                found.ApiKey.Offer(name, header.Value);
            }

            if (length == purposeLength && HeaderSpelling.Same(name, purposeHeader!))
            {
                found.Purpose.Offer(name, header.Value);
            }

            if (length == subjectLength && HeaderSpelling.Same(name, subjectHeader!))
            {
                found.Subject.Offer(name, header.Value);
            }
        }

        return found;
    }

    /// <summary>The headers <paramref name="route"/> reads its caller, purpose and subject from.</summary>
    public static IdentityHeaders Find(IHeaderDictionary headers, RoutePolicy route) =>
        Find(
            headers,
            RequestIdentity.ApiKeyHeader,
            route.FixedPurpose is null ? route.PurposeHeader : null,
            route.SubjectFrom == SubjectFrom.Header ? route.SubjectName : null);
}
