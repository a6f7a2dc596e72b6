using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace ConsentGateway.Enforcement;

/// <summary>
/// Fast paths over input in the form most services send: compact (nothing between tokens but the
/// grammar's own commas and colons) and without escapes. Such input can be forwarded or dropped as
/// its original bytes, so it needs checking but no tokens; tight loops do that, with no state
/// written back per token. Two shapes: a whole container (<see cref="TrySkipCompactContainer"/>) and
/// a run of an object's members whose names cannot matter (<see cref="TrySkipPlainMembers"/>).
/// </summary>
internal ref partial struct JsonTokenizer
{
    /// <summary>
    /// With the tokeniser on a StartObject or StartArray token, reads to the end of that container if the
    /// container is well-formed, compact, holds no escaped string, no name other than printable ASCII
    /// without escapes (what the walk forwards as it is), and opens nothing at a depth of
    /// <paramref name="maxDepth"/> or more; the tokeniser is then on its closing token. Otherwise (anything
    /// else, malformed input included) returns false and leaves the tokeniser where it was, for the
    /// token-by-token path to read and judge: this path only ever accepts what that one accepts.
    /// </summary>
    /// <remarks>
    /// A declined attempt has read bytes the token-by-token path then reads again, and the containers
    /// nested on the way to the same obstacle would each read them once more: up to the nesting depth
    /// times the document. So the bytes of declined attempts (here and in <see cref="TrySkipPlainMembers"/>)
    /// are counted, and once they reach the document's length both paths decline at once, which keeps
    /// a whole call within a few readings of the input whatever its shape.
    /// </remarks>
    public bool TrySkipCompactContainer(int maxDepth)
    {
        if (_tokenDepth >= maxDepth || _declinedBytes >= _json.Length)
        {
            return false;
        }

        int end = CompactContainerEnd(_depth, _position, maxDepth);
        if (end < 0)
        {
            _declinedBytes += ~end - _position;
            return false;
        }

        byte kind = _containers[_depth - 1];
        _depth--;
        SetValueRead(end - 1, end, kind == InObject ? JsonTokenType.EndObject : JsonTokenType.EndArray);
        return true;
    }

    /// <summary>
    /// With the tokeniser inside an object (on its StartObject token, or on the last token of one of its
    /// values), reads on over the members that follow for as long as each is plain: a name without
    /// escapes, all printable ASCII, that <paramref name="namesToRead"/> does not include, then a value
    /// that is a number, a literal, a string without escapes or a container
    /// <see cref="TrySkipCompactContainer"/> would accept, all compact. Returns the index
    /// of the first such member's name (with <paramref name="end"/> the index after the last one's value),
    /// or -1 when none was passed. The tokeniser then stands where reading token by token would: on the
    /// last passed value; or, when the run ended at a plain name it includes, on that name,
    /// read; otherwise where it was.
    /// </summary>
    /// <remarks>
    /// The filter passes the names that can complete or lead to a path the request withholds, by length
    /// and first byte: every other member is forwarded as its bytes, so reading it token by token only to
    /// find that out was most of the work on the objects rules reach into (an order beside its contact).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int TrySkipPlainMembers(NamesToRead namesToRead, int maxDepth, out int end)
    {
        end = _position;
        return _depth > 0 && _containers[_depth - 1] == InObject && _tokenType != JsonTokenType.PropertyName && _declinedBytes < _json.Length
            ? SkipPlainMembers(namesToRead, maxDepth, ref end)
            : -1;
    }

    private int SkipPlainMembers(NamesToRead namesToRead, int maxDepth, ref int skippedEnd)
    {
        var json = _json;
        int pos = _position;
        bool first = _tokenType == JsonTokenType.StartObject;
        int firstName = -1;
        int valueStart = 0;
        var valueType = JsonTokenType.None;
        while (true)
        {
            int next = pos;
            if (!first)
            {
                if ((uint)next >= (uint)json.Length || json[next] != (byte)',')
                {
                    break;
                }

                next++;
            }

            if ((uint)next >= (uint)json.Length || json[next] != (byte)'"')
            {
                break;
            }

            int name = next;
            int end = IndexOfNameStop(json, name + 1);
            if ((uint)end >= (uint)json.Length || json[end] != (byte)'"')
            {
                break;
            }

            end++;
            if ((uint)end >= (uint)json.Length || json[end] != (byte)':')
            {
                break;
            }

            if (namesToRead.Includes(end - name - 2, json[name + 1]))
            {
                // A name that may matter: the walk reads it as the next token, as Read would have left it.
                StandOnLastValue(firstName, valueStart, pos, valueType);
                skippedEnd = pos;
                _tokenDepth = _depth;
                _tokenStart = name;
                _tokenType = JsonTokenType.PropertyName;
                _valueStart = name + 1;
                _valueLength = end - name - 2;
                _escaped = false;
                _position = end + 1;
                return firstName;
            }

            int value = end + 1;
            if ((uint)value >= (uint)json.Length)
            {
                break;
            }

            JsonTokenType type;
            switch (json[value])
            {
                case (byte)'"':
                    end = PlainStringEnd(json, value);
                    type = JsonTokenType.String;
                    break;
                case (byte)'{':
                case (byte)'[':
                    if (_depth >= maxDepth || _depth >= _containers.Length || _declinedBytes >= json.Length)
                    {
                        end = -1;
                        type = JsonTokenType.None;
                        break;
                    }

                    byte kind = json[value] == (byte)'{' ? InObject : InArray;
                    _containers[_depth] = kind;
                    end = CompactContainerEnd(_depth + 1, value + 1, maxDepth);
                    if (end < 0)
                    {
                        _declinedBytes += ~end - value;
                    }

                    type = kind == InObject ? JsonTokenType.EndObject : JsonTokenType.EndArray;
                    break;
                case (byte)'t':
                    end = LiteralEnd(json, value, "true"u8);
                    type = JsonTokenType.True;
                    break;
                case (byte)'f':
                    end = LiteralEnd(json, value, "false"u8);
                    type = JsonTokenType.False;
                    break;
                case (byte)'n':
                    end = LiteralEnd(json, value, "null"u8);
                    type = JsonTokenType.Null;
                    break;
                default:
                    end = NumberEnd(json, value);
                    type = JsonTokenType.Number;
                    break;
            }

            if (end < 0)
            {
                break;
            }

            if (firstName < 0)
            {
                firstName = name;
            }

            valueStart = type is JsonTokenType.EndObject or JsonTokenType.EndArray ? end - 1 : value;
            valueType = type;
            pos = end;
            first = false;
        }

        StandOnLastValue(firstName, valueStart, pos, valueType);
        skippedEnd = pos;
        return firstName;
    }

    private void StandOnLastValue(int firstName, int lastValueStart, int end, JsonTokenType lastValueType)
    {
        if (firstName >= 0)
        {
            SetValueRead(lastValueStart, end, lastValueType);
        }
    }

    /// <summary>Leaves the tokeniser as if it had just read the value token at [start, end) at the current depth.</summary>
    private void SetValueRead(int start, int end, JsonTokenType type)
    {
        bool isString = type == JsonTokenType.String;
        _tokenDepth = _depth;
        _tokenStart = start;
        _tokenType = type;
        _valueStart = isString ? start + 1 : start;
        _valueLength = isString ? end - start - 2 : end - start;
        _escaped = false;
        _position = end;
    }

    /// <summary>
    /// The index after the compact, escape-free container whose content starts at <paramref name="pos"/>
    /// (just past its opening bracket, whose kind is <c>_containers[depth - 1]</c>), opening nothing at a depth of
    /// <paramref name="maxDepth"/> or more; otherwise the complement (negative) of the index where reading stopped.
    /// </summary>
    /// <remarks>
    /// Never inlined: profile-guided inlining into the walk (through <see cref="TrySkipPlainMembers"/>)
    /// varied from one process to the next and, when it happened, made both slower (a 256 KB document
    /// 190 against up to 346 µs).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly int CompactContainerEnd(int depth, int pos, int maxDepth)
    {
        var json = _json;
        var kinds = _containers;
        int outer = depth - 1;
        int end;
        byte kind = kinds[depth - 1];
        byte b;

        // Just inside a container: it may close at once.
        Opened:
        if ((uint)pos >= (uint)json.Length)
        {
            goto Declined;
        }

        b = json[pos];
        if (b == (kind == InObject ? (byte)'}' : (byte)']'))
        {
            goto Closed;
        }

        if (kind == InArray)
        {
            goto Value;
        }

        // A name is only its own canonical form when it is printable ASCII (the walk re-escapes the rest).
        Name:
        if ((uint)pos >= (uint)json.Length || json[pos] != (byte)'"')
        {
            goto Declined;
        }

        end = IndexOfNameStop(json, pos + 1);
        if ((uint)end >= (uint)json.Length - 1 || json[end] != (byte)'"' || json[end + 1] != (byte)':')
        {
            goto Declined;
        }

        pos = end + 2;

        Value:
        if ((uint)pos >= (uint)json.Length)
        {
            goto Declined;
        }

        switch (json[pos])
        {
            case (byte)'"':
                end = PlainStringEnd(json, pos);
                break;
            case (byte)'{':
            case (byte)'[':
                if (depth >= maxDepth || depth >= kinds.Length)
                {
                    goto Declined;
                }

                kind = json[pos] == (byte)'{' ? InObject : InArray;
                kinds[depth++] = kind;
                pos++;
                goto Opened;
            case (byte)'t':
                end = LiteralEnd(json, pos, "true"u8);
                break;
            case (byte)'f':
                end = LiteralEnd(json, pos, "false"u8);
                break;
            case (byte)'n':
                end = LiteralEnd(json, pos, "null"u8);
                break;
            default:
                end = NumberEnd(json, pos);
                break;
        }

        if (end < 0)
        {
            goto Declined;
        }

        pos = end;

        // A value is complete: a comma, or the end of its container.
        AfterValue:
        if ((uint)pos >= (uint)json.Length)
        {
            goto Declined;
        }

        b = json[pos];
        if (b == (byte)',')
        {
            pos++;
            if (kind == InObject)
            {
                goto Name;
            }

            goto Value;
        }

        if (b != (kind == InObject ? (byte)'}' : (byte)']'))
        {
            goto Declined;
        }

        Closed:
        depth--;
        if (depth > outer)
        {
            kind = kinds[depth - 1];
            pos++;
            goto AfterValue;
        }

        return pos + 1;

        Declined:
        return ~pos;
    }

    /// <summary>
    /// Whether the content of a string the grammar accepted without escapes is all printable ASCII. The
    /// grammar refuses raw control characters (below 0x20) inside strings, so only bytes from 0x7F up
    /// (DEL and every non-ASCII byte) remain to rule out: eight or four at a time, since adding 1 to a
    /// byte sets its high bit exactly when it is 0x7F or more (a carry into the next byte only comes from
    /// 0xFF, which already fails).
    /// </summary>
    internal static bool IsPrintableUnescaped(ReadOnlySpan<byte> content)
    {
        const ulong Ones = 0x0101010101010101;
        const ulong High = 0x8080808080808080;
        int length = content.Length;
        if (length >= 8)
        {
            int last = length - 8;
            for (int i = 0; i < last; i += 8)
            {
                ulong x = MemoryMarshal.Read<ulong>(content[i..]);
                if ((((x + Ones) | x) & High) != 0)
                {
                    return false;
                }
            }

            ulong tail = MemoryMarshal.Read<ulong>(content[last..]);
            return (((tail + Ones) | tail) & High) == 0;
        }

        if (length >= 4)
        {
            uint head = MemoryMarshal.Read<uint>(content);
            uint tail = MemoryMarshal.Read<uint>(content[(length - 4)..]);
            return ((((head + 0x01010101u) | head) | ((tail + 0x01010101u) | tail)) & 0x80808080u) == 0;
        }

        foreach (byte b in content)
        {
            if (b >= 0x7F)
            {
                return false;
            }
        }

        return true;
    }
}
