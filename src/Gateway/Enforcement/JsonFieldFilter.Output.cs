using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace ConsentGateway.Enforcement;

/// <summary>
/// Output of the filter: a splice of the input. Every forwarded token whose original bytes are already
/// its canonical compact form (structural tokens, numbers, literals, unescaped strings, plain ASCII
/// names) is emitted as a reference to the input; consecutive references whose gap in the input is
/// exactly the separator the output needs are merged and copied with one memcpy. Only edits (a stripped,
/// redacted or pseudonymised value), escaped or non-ASCII names, escaped strings and whitespace break
/// a run; the bytes written are the same as re-writing every token with a compact Utf8JsonWriter.
/// </summary>
internal sealed partial class JsonFieldFilter
{
    /// <summary>Run.RawEnd when the last output did not come from the input; never one or zero bytes before a token.</summary>
    private const int NoRaw = -2;

    private const int MinGrowBytes = 256;

    /// <summary>
    /// Forwards input[start..end) as it is. The separator owed before it (Run.Separator) is taken from the
    /// input when the gap since the previous forwarded token is exactly that long: the reader has checked
    /// the grammar, so a one-byte gap between siblings is the comma, after a name the colon, and an empty
    /// gap is what follows '[' or '{' or precedes ']' or '}'. Anything skipped in between resets RawEnd.
    /// </summary>
    private static void Raw(ref Run run, int start, int end, byte nextSeparator)
    {
        int separator = run.Separator;
        if (start - run.RawEnd != (separator == 0 ? 0 : 1))
        {
            FlushPending(ref run);
            if (separator != 0)
            {
                Put(ref run, (byte)separator);
            }

            run.PendingStart = start;
        }

        run.RawEnd = end;
        run.Separator = (byte)nextSeparator;
    }

    /// <summary>Forwards the closing token the reader is on; nothing ever separates it from what precedes it.</summary>
    private static void RawEnd(ref Run run)
    {
        int start = (int)run.Reader.TokenStartIndex;
        run.Separator = 0;
        Raw(ref run, start, start + 1, (byte)',');
    }

    /// <summary>
    /// Forwards the name the reader is on, whose unescaped UTF-8 is <paramref name="name"/>. A name sent
    /// unescaped and made only of printable ASCII is its own canonical form; any other is re-escaped as
    /// the writer would (the relaxed encoder escapes some non-ASCII, such as characters outside the BMP,
    /// and DEL).
    /// </summary>
    private static void WriteName(ref Run run, ReadOnlySpan<byte> name)
    {
        ref var reader = ref run.Reader;
        if (!reader.ValueIsEscaped && JsonTokenizer.IsPrintableUnescaped(name))
        {
            int start = (int)reader.TokenStartIndex;
            Raw(ref run, start, start + name.Length + 2, (byte)':');
        }
        else
        {
            Canonical(ref run, run.Scratch.CanonicalString(name), (byte)':');
        }
    }

    /// <summary>Writes bytes that are not in the input (null, a pseudonym, a re-escaped string or name).</summary>
    private static void Canonical(ref Run run, scoped ReadOnlySpan<byte> bytes, byte nextSeparator)
    {
        FlushPending(ref run);
        if (run.Separator != 0)
        {
            Put(ref run, run.Separator);
        }

        Put(ref run, bytes);
        run.RawEnd = NoRaw;
        run.Separator = nextSeparator;
    }

    /// <summary>A value (and its name, if any) is left out: what follows must not be merged across it.</summary>
    private static void Skipped(ref Run run)
    {
        FlushPending(ref run);
        run.RawEnd = NoRaw;
    }

    private static void FlushPending(ref Run run)
    {
        if (run.RawEnd > run.PendingStart)
        {
            Put(ref run, run.Input[run.PendingStart..run.RawEnd]);
            run.PendingStart = run.RawEnd;
        }
    }

    /// <summary>Writes what is pending and hands the buffered bytes to the output.</summary>
    private static void Complete(ref Run run)
    {
        FlushPending(ref run);
        run.Output.Advance(run.Buffered);
        run.Buffered = 0;
        run.Buffer = default;
    }

    private static void Put(ref Run run, byte value)
    {
        if (run.Buffered == run.Buffer.Length)
        {
            Grow(ref run, 1);
        }

        run.Buffer[run.Buffered++] = value;
    }

    private static void Put(ref Run run, scoped ReadOnlySpan<byte> bytes)
    {
        if (run.Buffer.Length - run.Buffered < bytes.Length)
        {
            Grow(ref run, bytes.Length);
        }

        bytes.CopyTo(run.Buffer[run.Buffered..]);
        run.Buffered += bytes.Length;
    }

    private static void Grow(ref Run run, int needed)
    {
        // As Utf8JsonWriter does: written bytes reach the output only when more space is needed or at the end.
        if (run.Buffered > 0)
        {
            run.Output.Advance(run.Buffered);
            run.Buffered = 0;
        }

        run.Buffer = run.Output.GetSpan(Math.Max(needed, MinGrowBytes));
    }

    /// <summary>The first span to write into: most outputs are about as long as their input.</summary>
    private static Span<byte> FirstBuffer(IBufferWriter<byte> output, int inputLength) =>
        output.GetSpan(Math.Max(MinGrowBytes, inputLength + 64));

    /// <summary>
    /// The commonest value of all, an allowed scalar already in its canonical form (a number, a literal,
    /// a string without escapes), forwarded without the general path of <see cref="HandleValue"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryForwardPlainScalar(ref Run run)
    {
        ref var reader = ref run.Reader;
        var type = reader.TokenType;
        if (type < JsonTokenType.String || reader.ValueIsEscaped)
        {
            return false;
        }

        int start = (int)reader.TokenStartIndex;
        Raw(ref run, start, start + reader.ValueSpan.Length + (type == JsonTokenType.String ? 2 : 0), (byte)',');
        return true;
    }
}
