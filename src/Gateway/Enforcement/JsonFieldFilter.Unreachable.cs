namespace ConsentGateway.Enforcement;

/// <summary>
/// Containers no withheld path can reach (none at all, or only paths this request allows): forwarded as
/// one splice of the input while they are plain.
/// </summary>
internal sealed partial class JsonFieldFilter
{
    /// <summary>
    /// Forwards the container the reader is on as its original bytes when they are exactly what the
    /// normal path would write: compact (no whitespace between tokens), no escaped string or name (those
    /// are unescaped and validated on the normal path, so lone surrogates are still refused), within the
    /// depth limit (see <see cref="JsonTokenizer.TrySkipCompactContainer"/>). Otherwise the reader stays
    /// on the container's first token and the walk reads it token by token.
    /// </summary>
    private bool TryCopyUnreachable(ref Run run)
    {
        int start = run.Reader.TokenStartIndex;
        if (!run.Reader.TrySkipCompactContainer(_maxDepth))
        {
            return false;
        }

        Raw(ref run, start, run.Reader.BytesConsumed, (byte)',');
        return true;
    }
}
