using ConsentGateway.Policy;

namespace ConsentGateway.Enforcement;

/// <summary>Translates between rule indices (route-wide) and the body filter's path indices.</summary>
internal static class BodyActions
{
    public static void Fill(FieldRule[] bodyRules, ulong deniedMask, Span<FieldAction> actions)
    {
        for (var i = 0; i < bodyRules.Length; i++)
        {
            var rule = bodyRules[i];
            actions[i] = (deniedMask & (1UL << rule.Index)) != 0 ? rule.DeniedAction : FieldAction.Allow;
        }
    }

    public static ulong ToRuleMask(FieldRule[] bodyRules, ulong pathMask)
    {
        ulong mask = 0;
        for (var i = 0; i < bodyRules.Length; i++)
        {
            if ((pathMask & (1UL << i)) != 0)
            {
                mask |= 1UL << bodyRules[i].Index;
            }
        }

        return mask;
    }
}
