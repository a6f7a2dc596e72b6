using System.Text.Json;

namespace ConsentGateway.Enforcement;

/// <summary>Containers no path can reach: forwarded as one splice of the input while they are plain.</summary>
internal sealed partial class JsonFieldFilter
{
    /// <summary>
    /// Reads the container the reader is on to its end and writes its original bytes, provided they are
    /// exactly what the normal path would write: compact (no whitespace between tokens), no escaped
    /// string or name (those are unescaped and validated on the normal path, so lone surrogates are
    /// still refused), within the depth limit. Otherwise the reader is put back on the container's
    /// first token and Ok is returned with the reader still there.
    /// </summary>
    private JsonFilterStatus TryCopyUnreachable(ref Run run)
    {
        ref var reader = ref run.Reader;
        var saved = reader;
        int start = (int)reader.TokenStartIndex;
        int depth = reader.CurrentDepth;
        int previousEnd = start;
        while (true)
        {
            // Between two tokens the grammar allows one separator and any whitespace: compact means
            // at most one byte, and that byte is not whitespace.
            int tokenStart = (int)reader.TokenStartIndex;
            int gap = tokenStart - previousEnd;
            if (gap > 1 || (gap == 1 && run.Input[previousEnd] is not ((byte)',' or (byte)':')))
            {
                reader = saved;
                return JsonFilterStatus.Ok;
            }

            previousEnd = (int)reader.BytesConsumed;
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray when reader.CurrentDepth >= _maxDepth:
                case JsonTokenType.String or JsonTokenType.PropertyName when reader.ValueIsEscaped:
                // The reader consumes the colon with the name, and any whitespace before it: compact
                // means the colon right after the closing quote.
                case JsonTokenType.PropertyName when reader.BytesConsumed != tokenStart + reader.ValueSpan.Length + 3:
                    reader = saved;
                    return JsonFilterStatus.Ok;
                case JsonTokenType.EndObject or JsonTokenType.EndArray when reader.CurrentDepth == depth:
                    Raw(ref run, start, (int)reader.BytesConsumed, (byte)',');
                    return JsonFilterStatus.Ok;
            }

            if (!reader.Read())
            {
                return JsonFilterStatus.Malformed;
            }
        }
    }
}
