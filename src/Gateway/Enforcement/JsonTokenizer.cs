using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace ConsentGateway.Enforcement;

/// <summary>
/// The gateway's tokeniser, for the body filter and the subject pointer reader alike: the subset of
/// <see cref="Utf8JsonReader"/> they use (one complete, already UTF-8-validated buffer; no comments,
/// no trailing commas, one root value), with the reader's token positions and depths, accepting
/// exactly the documents the reader accepts (RFC 8259). It exists for speed: the reader is built for segmented input, partial tokens and options, and on a
/// typical 8 KB body that generality cost more than everything else the filter does.
/// Malformed input throws <see cref="JsonException"/>, as the reader does, and nothing else; decoding
/// an escaped string is left to the reader itself (<see cref="CopyString"/>), so escapes mean
/// exactly what they mean to System.Text.Json.
/// </summary>
internal ref partial struct JsonTokenizer
{
    private const byte InObject = 1;
    private const byte InArray = 2;

    private readonly ReadOnlySpan<byte> _json;

    /// <summary>The kind of each open container (<see cref="InObject"/> or <see cref="InArray"/>), by depth.</summary>
    private readonly Span<byte> _containers;
    private int _position;
    private int _depth;
    private int _tokenStart;
    private int _valueStart;
    private int _valueLength;
    private int _tokenDepth;
    private JsonTokenType _tokenType;
    private bool _escaped;

    /// <summary>Bytes read by declined <see cref="TrySkipCompactContainer"/> and <see cref="TrySkipPlainMembers"/> attempts (see there).</summary>
    private int _declinedBytes;

    /// <param name="json">The whole document, valid UTF-8 (the caller checks; strings are not re-validated).</param>
    /// <param name="containers">One byte per nesting level allowed; deeper input throws.</param>
    public JsonTokenizer(ReadOnlySpan<byte> json, Span<byte> containers)
    {
        _json = json;
        _containers = containers;
    }

    public readonly JsonTokenType TokenType => _tokenType;

    /// <summary>Where the token starts: its opening quote for a string or name.</summary>
    public readonly int TokenStartIndex => _tokenStart;

    /// <summary>A string's or name's raw content between the quotes (escapes as sent), else the token's text.</summary>
    public readonly ReadOnlySpan<byte> ValueSpan => _json.Slice(_valueStart, _valueLength);

    public readonly bool ValueIsEscaped => _escaped;

    /// <summary>As the reader counts it: a container's start and end tokens sit at the depth outside it.</summary>
    public readonly int CurrentDepth => _tokenDepth;

    /// <summary>Bytes read so far: past the current token (and, for a name, past its colon).</summary>
    public readonly int BytesConsumed => _position;

    /// <summary>Bytes read by declined fast-path attempts so far; bounded by the input's length plus one attempt.</summary>
    public readonly int DeclinedBytes => _declinedBytes;

    /// <summary>Moves to the next token; false when the root value is complete and only whitespace follows.</summary>
    public bool Read()
    {
        var json = _json;
        int pos = SkipWhitespace(json, _position);
        switch (_tokenType)
        {
            case JsonTokenType.None:
                if (pos >= json.Length)
                {
                    Fail("The input holds no JSON value.");
                }

                ReadValue(json, pos);
                return true;
            case JsonTokenType.StartObject:
                if (pos < json.Length && json[pos] == (byte)'}')
                {
                    Close(pos, InObject, JsonTokenType.EndObject);
                    return true;
                }

                ReadName(json, pos);
                return true;
            case JsonTokenType.StartArray:
                if (pos < json.Length && json[pos] == (byte)']')
                {
                    Close(pos, InArray, JsonTokenType.EndArray);
                    return true;
                }

                ReadValue(json, pos);
                return true;
            case JsonTokenType.PropertyName:
                ReadValue(json, pos);
                return true;
        }

        // A value is complete.
        if (_depth == 0)
        {
            if (pos < json.Length)
            {
                Fail("Only whitespace may follow the root value.");
            }

            _position = pos;
            return false;
        }

        if (pos >= json.Length)
        {
            Fail("The input ends inside a container.");
        }

        byte kind = _containers[_depth - 1];
        switch (json[pos])
        {
            case (byte)',':
                pos = SkipWhitespace(json, pos + 1);
                if (kind == InObject)
                {
                    ReadName(json, pos);
                }
                else
                {
                    ReadValue(json, pos);
                }

                return true;
            case (byte)'}' when kind == InObject:
                Close(pos, InObject, JsonTokenType.EndObject);
                return true;
            case (byte)']' when kind == InArray:
                Close(pos, InArray, JsonTokenType.EndArray);
                return true;
            default:
                Fail("Expected a comma or the end of the container.");
                return false;
        }
    }

    /// <summary>
    /// Decodes the current escaped string or name into <paramref name="destination"/> (at least as long as
    /// <see cref="ValueSpan"/>: unescaping never lengthens) through the reader itself, so escapes decode,
    /// and undecodable ones (a lone surrogate) throw <see cref="InvalidOperationException"/>, exactly as
    /// System.Text.Json handles them.
    /// </summary>
    public readonly int CopyString(Span<byte> destination)
    {
        var reader = new Utf8JsonReader(_json.Slice(_tokenStart, _valueLength + 2));
        reader.Read();
        return reader.CopyString(destination);
    }

    private void ReadValue(ReadOnlySpan<byte> json, int pos)
    {
        if (pos >= json.Length)
        {
            Fail("Expected a value.");
        }

        _tokenStart = pos;
        _tokenDepth = _depth;
        switch (json[pos])
        {
            case (byte)'"':
                _tokenType = JsonTokenType.String;
                _position = ScanString(json, pos);
                return;
            case (byte)'{':
                Open(pos, InObject, JsonTokenType.StartObject);
                return;
            case (byte)'[':
                Open(pos, InArray, JsonTokenType.StartArray);
                return;
            case (byte)'t':
                Literal(json, pos, "true"u8, JsonTokenType.True);
                return;
            case (byte)'f':
                Literal(json, pos, "false"u8, JsonTokenType.False);
                return;
            case (byte)'n':
                Literal(json, pos, "null"u8, JsonTokenType.Null);
                return;
            default:
                ReadNumber(json, pos);
                return;
        }
    }

    private void ReadName(ReadOnlySpan<byte> json, int pos)
    {
        if (pos >= json.Length || json[pos] != (byte)'"')
        {
            Fail("Expected a property name.");
        }

        _tokenStart = pos;
        _tokenDepth = _depth;
        _tokenType = JsonTokenType.PropertyName;
        int colon = SkipWhitespace(json, ScanString(json, pos));
        if (colon >= json.Length || json[colon] != (byte)':')
        {
            Fail("Expected a colon after a property name.");
        }

        _position = colon + 1;
    }

    private void Open(int pos, byte kind, JsonTokenType type)
    {
        if (_depth >= _containers.Length)
        {
            Fail("The input is nested too deeply.");
        }

        _containers[_depth++] = kind;
        _tokenType = type;
        _valueStart = pos;
        _valueLength = 1;
        _escaped = false;
        _position = pos + 1;
    }

    private void Close(int pos, byte kind, JsonTokenType type)
    {
        if (_containers[_depth - 1] != kind)
        {
            Fail("A container is closed by the wrong bracket.");
        }

        _depth--;
        _tokenDepth = _depth;
        _tokenStart = pos;
        _tokenType = type;
        _valueStart = pos;
        _valueLength = 1;
        _escaped = false;
        _position = pos + 1;
    }

    private void Literal(ReadOnlySpan<byte> json, int pos, ReadOnlySpan<byte> literal, JsonTokenType type)
    {
        if (LiteralEnd(json, pos, literal) < 0)
        {
            Fail("Expected true, false or null.");
        }

        _tokenType = type;
        _valueStart = pos;
        _valueLength = literal.Length;
        _escaped = false;
        _position = pos + literal.Length;
    }

    private void ReadNumber(ReadOnlySpan<byte> json, int start)
    {
        int end = NumberEnd(json, start);
        if (end < 0)
        {
            Fail("Expected a value.");
        }

        _tokenType = JsonTokenType.Number;
        _valueStart = start;
        _valueLength = end - start;
        _escaped = false;
        _position = end;
    }

    private static int LiteralEnd(ReadOnlySpan<byte> json, int pos, ReadOnlySpan<byte> literal) =>
        json[pos..].StartsWith(literal) ? pos + literal.Length : -1;

    /// <summary>
    /// The index after the well-formed number starting at <paramref name="pos"/>, or -1:
    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, nothing more, nothing less.
    /// </summary>
    private static int NumberEnd(ReadOnlySpan<byte> json, int pos)
    {
        if (json[pos] == (byte)'-')
        {
            pos++;
        }

        if (pos >= json.Length || !IsDigit(json[pos]))
        {
            return -1;
        }

        if (json[pos++] != (byte)'0')
        {
            pos = SkipDigits(json, pos);
        }

        if (pos < json.Length && json[pos] == (byte)'.')
        {
            if (pos + 1 >= json.Length || !IsDigit(json[pos + 1]))
            {
                return -1;
            }

            pos = SkipDigits(json, pos + 2);
        }

        if (pos < json.Length && (json[pos] | 0x20) == (byte)'e')
        {
            pos++;
            if (pos < json.Length && json[pos] is (byte)'+' or (byte)'-')
            {
                pos++;
            }

            if (pos >= json.Length || !IsDigit(json[pos]))
            {
                return -1;
            }

            pos = SkipDigits(json, pos + 1);
        }

        return pos;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipDigits(ReadOnlySpan<byte> json, int pos)
    {
        while (pos < json.Length && IsDigit(json[pos]))
        {
            pos++;
        }

        return pos;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipWhitespace(ReadOnlySpan<byte> json, int pos)
    {
        // Compact documents have none: one compare and out.
        while (pos < json.Length && json[pos] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
        {
            pos++;
        }

        return pos;
    }

    [DoesNotReturn]
    private static void Fail(string message) => throw new JsonException(message);
}
