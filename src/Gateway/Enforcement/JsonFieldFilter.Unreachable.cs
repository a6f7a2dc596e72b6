using System.Text.Json;

namespace ConsentGateway.Enforcement;

/// <summary>Containers no path can reach: forwarded as one splice of the input while they are plain.</summary>
internal sealed partial class JsonFieldFilter
{
    /// <summary>
    /// Reads the container the reader is on (within the depth limit, its set empty) and forwards its
    /// original bytes while they are exactly what the normal path would write: compact (no whitespace
    /// between tokens) and no escaped string or name (those are unescaped and validated on the normal
    /// path, so lone surrogates are still refused). At the first token that is not, what was read so
    /// far is forwarded and the walk takes over on that token (see <see cref="ResumeWalk"/>) rather than
    /// re-reading the container from a saved reader: the reader is a 200-byte struct, and saving it for
    /// every unreachable container cost more than the rare bail-out.
    /// </summary>
    private JsonFilterStatus CopyUnreachable(ref Run run, ref int level)
    {
        ref var reader = ref run.Reader;
        int start = (int)reader.TokenStartIndex;
        int depth = reader.CurrentDepth;
        int previousEnd = start; // where the reader stopped after the previous token
        int copiedEnd = start; // where the previous token's own bytes end (a name's colon is not its own)
        int open = 0;
        byte separator = 0;
        while (true)
        {
            // Between two tokens the grammar allows one separator and any whitespace: compact means
            // at most one byte, and that byte is not whitespace.
            int tokenStart = (int)reader.TokenStartIndex;
            int gap = tokenStart - previousEnd;
            if (gap > 1 || (gap == 1 && run.Input[previousEnd] is not ((byte)',' or (byte)':')))
            {
                return ResumeWalk(ref run, ref level, start, copiedEnd, separator, open);
            }

            // separator: what the output owes after this token if the walk takes over after it.
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    if (reader.CurrentDepth >= _maxDepth)
                    {
                        return ResumeWalk(ref run, ref level, start, copiedEnd, separator, open);
                    }

                    open++;
                    separator = 0;
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    if (reader.CurrentDepth == depth)
                    {
                        Raw(ref run, start, (int)reader.BytesConsumed, (byte)',');
                        return JsonFilterStatus.Ok;
                    }

                    open--;
                    separator = (byte)',';
                    break;
                case JsonTokenType.PropertyName:
                    // The reader consumes the colon with the name, and any whitespace before it: compact
                    // means the colon right after the closing quote.
                    if (reader.ValueIsEscaped || reader.BytesConsumed != tokenStart + reader.ValueSpan.Length + 3)
                    {
                        return ResumeWalk(ref run, ref level, start, copiedEnd, separator, open);
                    }

                    separator = (byte)':';
                    break;
                case JsonTokenType.String when reader.ValueIsEscaped:
                    return ResumeWalk(ref run, ref level, start, copiedEnd, separator, open);
                default:
                    separator = (byte)',';
                    break;
            }

            previousEnd = (int)reader.BytesConsumed;
            copiedEnd = reader.TokenType == JsonTokenType.PropertyName ? previousEnd - 1 : previousEnd;
            if (!reader.Read())
            {
                return JsonFilterStatus.Malformed;
            }
        }
    }

    /// <summary>
    /// Forwards input[start..end), the plain prefix of an unreachable container, and hands the token the
    /// reader is on to the walk (Run.Replay) as if the walk had opened every container still open in that
    /// prefix. Nothing below an unreachable container can match, so their levels get empty sets and no
    /// element matches, and every token that follows is forwarded as it would have been.
    /// </summary>
    private JsonFilterStatus ResumeWalk(ref Run run, ref int level, int start, int end, byte separator, int open)
    {
        Raw(ref run, start, end, separator);
        for (int i = 1; i <= open; i++)
        {
            SetAt(ref run, level + i + 1).Clear();
            run.ElementMatches[level + i] = 0;
        }

        level += open;
        run.Replay = true;
        return JsonFilterStatus.Ok;
    }
}
