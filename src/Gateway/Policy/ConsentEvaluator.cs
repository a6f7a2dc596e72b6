using ConsentGateway.Consent;

namespace ConsentGateway.Policy;

/// <summary>The legal-basis rules of SPEC §3, in one place.</summary>
internal static class ConsentEvaluator
{
    /// <summary>
    /// May data flow for <paramref name="purpose"/>, given what is known about the subject?
    /// Purpose limitation (which categories the purpose declares) is applied separately.
    /// </summary>
    public static bool Allows(Purpose purpose, in ConsentLookupResult lookup, bool gpcSignal, DateTimeOffset now)
    {
        if (purpose.Basis is LegalBasis.Contract or LegalBasis.LegalObligation)
        {
            return true;
        }

        // Fail closed: with nothing trustworthy known, neither a grant nor the absence of an
        // objection can be assumed.
        if (!lookup.IsKnown)
        {
            return false;
        }

        var record = lookup.Consent?.Find(purpose.Name);
        return purpose.Basis switch
        {
            LegalBasis.Consent => record is { } granted && granted.IsGrantedAt(now),
            LegalBasis.LegitimateInterest => record is not { Status: ConsentStatus.Denied },
            LegalBasis.OptOut => record is not { Status: ConsentStatus.Denied } && !gpcSignal && lookup.Consent?.Gpc != true,
            _ => false,
        };
    }

    /// <summary>Whether evaluating this purpose needs the subject's consent record at all.</summary>
    public static bool NeedsLookup(Purpose purpose) => purpose.Basis is not (LegalBasis.Contract or LegalBasis.LegalObligation);
}
