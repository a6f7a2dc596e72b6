using System.Text;

namespace ConsentGateway.Enforcement;

/// <summary>A property name from a rule, kept in both encodings so the hot path never transcodes it.</summary>
internal sealed class JsonRuleName
{
    public JsonRuleName(string text)
    {
        Text = text;
        Utf8 = Encoding.UTF8.GetBytes(text);
        IsAscii = Ascii.IsValid(text);
    }

    public string Text { get; }

    public byte[] Utf8 { get; }

    public bool IsAscii { get; }
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
    private sbyte _isAscii; // -1 unknown; computed only when a case-insensitive comparison needs it
    private bool _decoded;

    /// <param name="utf8">The unescaped, valid UTF-8 name.</param>
    /// <param name="charBuffer">Space to decode non-ASCII names into; at least 3 × the longest rule name avoids allocating.</param>
    public JsonPropertyNameProbe(ReadOnlySpan<byte> utf8, Span<char> charBuffer)
    {
        _utf8 = utf8;
        _charBuffer = charBuffer;
        _chars = default;
        _isAscii = -1;
        _decoded = false;
    }

    public readonly ReadOnlySpan<byte> Utf8 => _utf8;

    public bool Matches(JsonRuleName rule, bool caseSensitive)
    {
        if (caseSensitive)
        {
            return _utf8.SequenceEqual(rule.Utf8);
        }

        if (_isAscii < 0)
        {
            _isAscii = Ascii.IsValid(_utf8) ? (sbyte)1 : (sbyte)0;
        }

        if (_isAscii == 1 && rule.IsAscii)
        {
            // Most names differ in length: decide those without the call,
            // and a first byte that differs other than in the case bit settles most of the rest.
            return _utf8.Length == rule.Utf8.Length
                && (_utf8.Length == 0 || (((_utf8[0] ^ rule.Utf8[0]) & ~0x20) == 0 && Ascii.EqualsIgnoreCase(_utf8, rule.Utf8)));
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
