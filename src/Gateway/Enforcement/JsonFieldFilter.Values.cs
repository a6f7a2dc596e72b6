using System.Buffers;
using System.Text.Json;

namespace ConsentGateway.Enforcement;

/// <summary>Value-level helpers of the filter: consuming, re-serialising and pseudonymising one value.</summary>
internal sealed partial class JsonFieldFilter
{
    private JsonFilterStatus WritePseudonym(ref Run run)
    {
        ref var reader = ref run.Reader;
        ReadOnlySpan<byte> value;
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                value = Unescaped(ref run);
                break;
            case JsonTokenType.StartObject:
            case JsonTokenType.StartArray:
                {
                    // Hash the compact canonical form, so formatting and escaping do not change the pseudonym.
                    var hashWriter = run.Scratch.HashWriter(_maxDepth);
                    var status = Consume(ref run, hashWriter);
                    if (status != JsonFilterStatus.Ok)
                    {
                        return status;
                    }

                    hashWriter.Flush();
                    value = run.Scratch.HashWritten;
                    break;
                }

            default:
                // Numbers, true, false, null: their text as sent.
                value = reader.ValueSpan;
                break;
        }

        // Base64url needs no escaping: the quoted pseudonym is its own canonical form.
        Span<byte> quoted = stackalloc byte[Pseudonymizer.Length + 2];
        quoted[0] = (byte)'"';
        quoted[^1] = (byte)'"';
        run.Pseudonymizer!.Write(run.Subject, value, quoted[1..^1]);
        Canonical(ref run, quoted, (byte)',');
        return JsonFilterStatus.Ok;
    }

    /// <summary>
    /// Reads through the value whose first token the reader is on, writing its canonical compact form to
    /// <paramref name="writer"/> when given. Values that are withheld are still checked for depth and bad
    /// escapes, so whether a body is accepted never depends on the subject's consent.
    /// </summary>
    private JsonFilterStatus Consume(ref Run run, Utf8JsonWriter? writer)
    {
        ref var reader = ref run.Reader;
        int startDepth = reader.CurrentDepth;

        // A withheld container in the common compact form is checked in one pass, without its tokens.
        if (writer is null && reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray
            && reader.TrySkipCompactContainer(_maxDepth))
        {
            return JsonFilterStatus.Ok;
        }

        while (true)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                case JsonTokenType.StartArray:
                    if (reader.CurrentDepth >= _maxDepth)
                    {
                        return JsonFilterStatus.TooDeep;
                    }

                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        writer?.WriteStartObject();
                    }
                    else
                    {
                        writer?.WriteStartArray();
                    }

                    break;
                case JsonTokenType.EndObject:
                    writer?.WriteEndObject();
                    break;
                case JsonTokenType.EndArray:
                    writer?.WriteEndArray();
                    break;
                case JsonTokenType.PropertyName:
                    {
                        var name = Unescaped(ref run);
                        writer?.WritePropertyName(name);
                        break;
                    }

                case JsonTokenType.String:
                    {
                        var value = Unescaped(ref run);
                        writer?.WriteStringValue(value);
                        break;
                    }

                default:
                    if (writer is not null)
                    {
                        WriteScalar(ref reader, writer);
                    }

                    break;
            }

            if (reader.CurrentDepth == startDepth && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                return JsonFilterStatus.Ok;
            }

            if (!reader.Read())
            {
                return JsonFilterStatus.Malformed;
            }
        }
    }

    private static void WriteScalar(ref JsonTokenizer reader, Utf8JsonWriter writer)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                // The original text: 1e400 or 2^53+1 would not survive a round trip through double.
                writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                break;
            case JsonTokenType.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonTokenType.False:
                writer.WriteBooleanValue(false);
                break;
            case JsonTokenType.Null:
                writer.WriteNullValue();
                break;
            default:
                throw new JsonException($"Unexpected token {reader.TokenType}.");
        }
    }

    /// <summary>The unescaped UTF-8 of the current string or name; valid until the next call.</summary>
    private static ReadOnlySpan<byte> Unescaped(scoped ref Run run)
    {
        ref var reader = ref run.Reader;
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }

        // Unescaping never lengthens; CopyString also rejects escapes that are not valid UTF-16.
        var buffer = run.Scratch.Bytes(reader.ValueSpan.Length);
        int written = reader.CopyString(buffer);
        return buffer.AsSpan(0, written);
    }

    /// <summary>Everything one call needs, passed by reference so the walk stays allocation-free.</summary>
    private ref struct Run
    {
        public JsonTokenizer Reader;

        /// <summary>Where the output goes; Buffer is its current span, of which Buffered bytes are written.</summary>
        public IBufferWriter<byte> Output;
        public Span<byte> Buffer;
        public int Buffered;

        /// <summary>Input[PendingStart..RawEnd] is forwarded but not yet copied; RawEnd is NoRaw when the last output was not input.</summary>
        public int PendingStart;
        public int RawEnd;

        /// <summary>What the next value or name must be preceded by: 0, ',' or ':'.</summary>
        public byte Separator;
        public JsonFilterScratch Scratch;
        public ReadOnlySpan<byte> Input;
        public ReadOnlySpan<FieldAction> Actions;
        public ulong Denied;
        public ulong Withheld;
        public bool Blocked;
        public Span<int> States;
        public Span<ulong> ElementMatches;

        /// <summary>Per open object, the names the walk must read (see <see cref="JsonPathAutomaton.NamesToRead"/>); all in arrays.</summary>
        public Span<NamesToRead> NamesToRead;

        /// <summary>The state <see cref="Names"/> was last computed for (-1: none yet).</summary>
        public int NamesState;
        public NamesToRead Names;
        public Span<char> NameBuffer;
        public Pseudonymizer? Pseudonymizer;
        public ReadOnlySpan<byte> Subject;
    }
}
