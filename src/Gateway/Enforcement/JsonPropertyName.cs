using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace ConsentGateway.Enforcement;

/// <summary>A property name from a rule, kept in both encodings so the hot path never transcodes it.</summary>
internal sealed class JsonRuleName
{
    /// <summary>The longest ASCII name compared through <see cref="EqualsAsciiIgnoreCase"/>'s folded form.</summary>
    private const int FoldedMaxLength = 16;

    /// <summary>The longest ASCII name with a <see cref="Folded"/> form.</summary>
    public const int MaxFoldedLength = FoldedMaxLength;

    public JsonRuleName(string text)
    {
        Text = text;
        Utf8 = Encoding.UTF8.GetBytes(text);
        IsAscii = Ascii.IsValid(text);
        if (IsAscii && Utf8.Length is > 0 and <= FoldedMaxLength)
        {
            Span<byte> mask = stackalloc byte[Utf8.Length];
            Span<byte> value = stackalloc byte[Utf8.Length];
            for (int i = 0; i < Utf8.Length; i++)
            {
                mask[i] = char.IsAsciiLetter((char)Utf8[i]) ? (byte)0x20 : (byte)0;
                value[i] = (byte)(Utf8[i] | mask[i]);
            }

            var (maskHead, maskTail) = Pack(mask);
            var (valueHead, valueTail) = Pack(value);
            Folded = new FoldedAsciiName(maskHead, maskTail, valueHead, valueTail);
        }
    }

    /// <summary>For an ASCII name of 1 to <see cref="MaxFoldedLength"/> bytes, its case-folded packed form; otherwise default.</summary>
    public FoldedAsciiName Folded { get; }

    public string Text { get; }

    public byte[] Utf8 { get; }

    public bool IsAscii { get; }

    /// <summary>
    /// For an ASCII rule name: whether <paramref name="name"/>, of the same byte length, equals it under
    /// <see cref="StringComparison.OrdinalIgnoreCase"/>. A letter matches either case, any other byte
    /// only itself, and a non-ASCII byte never matches (OrdinalIgnoreCase maps no non-ASCII character
    /// to an ASCII one: JsonPathAutomatonTests enumerates them).
    /// </summary>
    public bool EqualsAsciiIgnoreCase(ReadOnlySpan<byte> name)
    {
        Debug.Assert(IsAscii && name.Length == Utf8.Length);
        if (name.Length is 0 or > FoldedMaxLength)
        {
            // Ascii.EqualsIgnoreCase is false when either side holds a non-ASCII byte.
            return Ascii.EqualsIgnoreCase(name, Utf8);
        }

        // Up to 16 bytes in two words: one OR and one comparison each instead of a call per name.
        var (head, tail) = Pack(name);
        return Folded.Matches(head, tail);
    }

    /// <summary>
    /// Every byte of a 1- to 16-byte name in two words, the same positions in the same lanes for any two
    /// names of one length (overlapping reads where the length is not a power of two; unused lanes 0).
    /// </summary>
    public static (ulong Head, ulong Tail) Pack(ReadOnlySpan<byte> s)
    {
        int n = s.Length;
        if (n >= 8)
        {
            return (MemoryMarshal.Read<ulong>(s), MemoryMarshal.Read<ulong>(s[(n - 8)..]));
        }

        if (n >= 4)
        {
            return (MemoryMarshal.Read<uint>(s) | ((ulong)MemoryMarshal.Read<uint>(s[(n - 4)..]) << 32), 0);
        }

        return (s[0] | ((ulong)s[n >> 1] << 8) | ((ulong)s[n - 1] << 16), 0);
    }
}

/// <summary>
/// An ASCII rule name of 1 to 16 bytes, packed as <see cref="JsonRuleName.Pack"/> packs a body name of the
/// same length: each letter byte has the case bit in the mask and the value holds it lower-cased; any
/// other byte must be equal, so a non-ASCII byte never matches.
/// </summary>
internal readonly record struct FoldedAsciiName(ulong MaskHead, ulong MaskTail, ulong ValueHead, ulong ValueTail)
{
    /// <summary>Whether a body name of the rule's length, packed, equals the rule under ASCII case folding.</summary>
    public bool Matches(ulong head, ulong tail) => ((head | MaskHead) == ValueHead) & ((tail | MaskTail) == ValueTail);
}

/// <summary>
/// Which plain ASCII member names of an object the filter must read token by token: those whose byte
/// length n (bit min(n, 63) of <see cref="Lengths"/>) and whose first byte b, ASCII letters folded to
/// lower case (bit (b | 0x20) &amp; 63 of <see cref="FirstBytes"/>), are both marked. The two sets are
/// kept apart, so a name can pass both and still match nothing (the walk then steps it as usual), but a
/// name either one rules out matches no rule name that matters: it is forwarded as it is.
/// </summary>
/// <remarks>
/// Lengths alone stopped on names that only share a length with a rule (userAgent and ipAddress,
/// contact and payment): a stop, a step and a new run each time. The fold keeps both letter cases of a
/// rule's first byte in one bit, which is exact for ASCII names under either comparison.
/// </remarks>
internal readonly record struct NamesToRead(ulong Lengths, ulong FirstBytes)
{
    /// <summary>Every name may matter: the filter reads each one.</summary>
    public static NamesToRead All => new(ulong.MaxValue, ulong.MaxValue);

    /// <summary>Whether every name may matter, so a run of plain members is never worth looking for.</summary>
    public bool ReadsEveryName => Lengths == ulong.MaxValue;

    /// <summary>The bit of <see cref="FirstBytes"/> for a name starting with <paramref name="first"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong FirstByteBit(byte first) => 1UL << ((first | 0x20) & 63);

    /// <summary>Whether a plain ASCII name of <paramref name="length"/> bytes starting with <paramref name="first"/> (for an empty name, whatever byte follows it) must be read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Includes(int length, byte first) =>
        ((Lengths >> Math.Min(length, 63)) & (FirstBytes >> ((first | 0x20) & 63)) & 1) != 0;
}

/// <summary>
/// An unescaped property name read from a body, compared against rule names the way System.Text.Json
/// binds them: ordinal when case-sensitive, otherwise <see cref="StringComparison.OrdinalIgnoreCase"/>
/// over UTF-16 (what <c>PropertyNameCaseInsensitive</c> uses). Matching exactly what the backend binds
/// matters more than speed: a name the backend accepts but we do not recognise is a leak.
/// </summary>
internal ref struct JsonPropertyNameProbe
{
    private readonly ReadOnlySpan<byte> _utf8;
    private readonly Span<char> _charBuffer;
    private ReadOnlySpan<char> _chars;
    private bool _decoded;

    /// <param name="utf8">The unescaped, valid UTF-8 name.</param>
    /// <param name="charBuffer">Space to decode non-ASCII names into; at least 3 × the longest rule name avoids allocating.</param>
    public JsonPropertyNameProbe(ReadOnlySpan<byte> utf8, Span<char> charBuffer)
    {
        _utf8 = utf8;
        _charBuffer = charBuffer;
        _chars = default;
        _decoded = false;
    }

    public readonly ReadOnlySpan<byte> Utf8 => _utf8;

    public bool Matches(JsonRuleName rule, bool caseSensitive)
    {
        if (caseSensitive)
        {
            return _utf8.SequenceEqual(rule.Utf8);
        }

        if (rule.IsAscii)
        {
            // Most names differ in length; an ASCII name equals only names of its own byte length.
            return _utf8.Length == rule.Utf8.Length && rule.EqualsAsciiIgnoreCase(_utf8);
        }

        // OrdinalIgnoreCase maps UTF-16 code units one to one, so the names must have equal UTF-16
        // lengths; a UTF-16 unit takes 1 to 3 UTF-8 bytes, which rejects most names before decoding.
        int ruleChars = rule.Text.Length;
        if (_utf8.Length < ruleChars || _utf8.Length > 3 * ruleChars)
        {
            return false;
        }

        if (!_decoded)
        {
            // Only reached for names of at most 3 × the rule length, so a caller-sized buffer suffices;
            // the fallback covers callers that sized it smaller.
            Span<char> buffer = _charBuffer.Length >= _utf8.Length ? _charBuffer : new char[_utf8.Length];
            int n = Encoding.UTF8.GetChars(_utf8, buffer);
            _chars = buffer[..n];
            _decoded = true;
        }

        return _chars.Equals(rule.Text.AsSpan(), StringComparison.OrdinalIgnoreCase);
    }
}
