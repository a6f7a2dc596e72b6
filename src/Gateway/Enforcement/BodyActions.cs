using System.Buffers;
using ConsentGateway.Policy;

namespace ConsentGateway.Enforcement;

/// <summary>Runs a direction's body filter with this exchange's decisions, translating between rule indices (route-wide) and the filter's path indices.</summary>
internal static class BodyActions
{
    /// <summary>Filters <paramref name="input"/>; the result's mask is over rule indices.</summary>
    public static JsonFilterResult Filter(JsonFieldFilter filter, FieldRule[] bodyRules, ReadOnlySpan<byte> input, ulong deniedMask, ReadOnlySpan<byte> subjectUtf8, IBufferWriter<byte> output, Pseudonymizer pseudonymizer)
    {
        Span<FieldAction> actions = stackalloc FieldAction[bodyRules.Length];
        Fill(bodyRules, deniedMask, actions);
        var result = filter.Filter(input, actions, output, pseudonymizer, subjectUtf8);
        return result with { WithheldMask = ToRuleMask(bodyRules, result.WithheldMask) };
    }

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
