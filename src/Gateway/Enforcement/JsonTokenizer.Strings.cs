using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ConsentGateway.Enforcement;

/// <summary>Strings: the scan for their end, and the check of their escapes (decoding is the reader's).</summary>
internal ref partial struct JsonTokenizer
{
    /// <summary>Reads the string whose opening quote is at <paramref name="quote"/>; returns the index after its closing quote.</summary>
    private int ScanString(ReadOnlySpan<byte> json, int quote)
    {
        int start = quote + 1;
        int stop = IndexOfStringStop(json, start);
        if (stop < json.Length && json[stop] == (byte)'"')
        {
            _valueStart = start;
            _valueLength = stop - start;
            _escaped = false;
            return stop + 1;
        }

        return ScanEscapedString(json, start, stop);
    }

    private int ScanEscapedString(ReadOnlySpan<byte> json, int start, int stop)
    {
        int pos = stop;
        while (true)
        {
            if (pos >= json.Length)
            {
                Fail("A string is not closed.");
            }

            byte b = json[pos];
            if (b == (byte)'"')
            {
                _valueStart = start;
                _valueLength = pos - start;
                _escaped = true;
                return pos + 1;
            }

            if (b != (byte)'\\')
            {
                Fail("A string holds a control character.");
            }

            pos = IndexOfStringStop(json, SkipEscape(json, pos));
        }
    }

    /// <summary>
    /// The index of the first byte from <paramref name="pos"/> that ends the fast scan of a string: a quote,
    /// a backslash or a control character (which the grammar forbids there), or the input's length.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int IndexOfStringStop(ReadOnlySpan<byte> json, int pos) => IndexOfStop(json, pos, printableOnly: false);

    /// <summary>
    /// As <see cref="IndexOfStringStop"/>, but stopping at DEL and every non-ASCII byte too: the first byte
    /// from <paramref name="pos"/> that is not printable ASCII other than a backslash or a quote.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int IndexOfNameStop(ReadOnlySpan<byte> json, int pos) => IndexOfStop(json, pos, printableOnly: true);

    /// <summary>
    /// Sixteen bytes at a time, inline: most strings are short, and for them a call into a general search
    /// cost more than the scan. <paramref name="printableOnly"/> is a constant at each call site, so
    /// each inlined copy tests one set of stops.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int IndexOfStop(ReadOnlySpan<byte> json, int pos, bool printableOnly)
    {
        ref byte first = ref MemoryMarshal.GetReference(json);
        while (pos <= json.Length - Vector128<byte>.Count)
        {
            var v = Vector128.LoadUnsafe(ref first, (nuint)pos);

            // Adding 0x60 maps 0x20-0x7E (printable) to 0x80-0xDE, the signed bytes up to -34, and every
            // other byte above that.
            var outside = printableOnly
                ? Vector128.GreaterThan((v + Vector128.Create((byte)0x60)).AsSByte(), Vector128.Create((sbyte)-34)).AsByte()
                : Vector128.LessThan(v, Vector128.Create((byte)0x20));
            var stops = Vector128.Equals(v, Vector128.Create((byte)'"')) | Vector128.Equals(v, Vector128.Create((byte)'\\')) | outside;
            uint mask = stops.ExtractMostSignificantBits();
            if (mask != 0)
            {
                return pos + BitOperations.TrailingZeroCount(mask);
            }

            pos += Vector128<byte>.Count;
        }

        while (pos < json.Length && json[pos] is not ((byte)'"' or (byte)'\\' or < 0x20) && (!printableOnly || json[pos] < 0x7F))
        {
            pos++;
        }

        return pos;
    }

    /// <summary>Checks the escape whose backslash is at <paramref name="backslash"/>; returns the index after it.</summary>
    private static int SkipEscape(ReadOnlySpan<byte> json, int backslash)
    {
        int pos = backslash + 1;
        if (pos >= json.Length)
        {
            Fail("A string is not closed.");
        }

        switch (json[pos])
        {
            case (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t':
                return pos + 1;
            case (byte)'u':
                if (pos + 4 >= json.Length
                    || !char.IsAsciiHexDigit((char)json[pos + 1]) || !char.IsAsciiHexDigit((char)json[pos + 2])
                    || !char.IsAsciiHexDigit((char)json[pos + 3]) || !char.IsAsciiHexDigit((char)json[pos + 4]))
                {
                    Fail("A \\u escape needs four hexadecimal digits.");
                }

                return pos + 5;
            default:
                Fail("A string holds an unknown escape.");
                return 0;
        }
    }

    /// <summary>The index after an unescaped string's closing quote, or -1 if it has an escape, a control character or no end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PlainStringEnd(ReadOnlySpan<byte> json, int quote)
    {
        int stop = IndexOfStringStop(json, quote + 1);
        return stop < json.Length && json[stop] == (byte)'"' ? stop + 1 : -1;
    }
}
