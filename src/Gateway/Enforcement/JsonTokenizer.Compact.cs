using System.Text.Json;

namespace ConsentGateway.Enforcement;

/// <summary>
/// A fast path over a whole container in the form most services send: compact (nothing between tokens
/// but the grammar's own commas and colons) and without escapes. Such a container can be forwarded or
/// dropped as its original bytes, so it needs checking but no tokens; one tight loop does that, with
/// no state written back per token.
/// </summary>
internal ref partial struct JsonTokenizer
{
    /// <summary>
    /// With the tokeniser on a StartObject or StartArray token, reads to the end of that container if the
    /// container is well-formed, compact, holds no escaped string or name, and opens nothing at a depth of
    /// <paramref name="maxDepth"/> or more; the tokeniser is then on its closing token. Otherwise (anything
    /// else, malformed input included) returns false and leaves the tokeniser where it was, for the
    /// token-by-token path to read and judge: this path only ever accepts what that one accepts.
    /// </summary>
    /// <remarks>
    /// A declined attempt has read bytes the token-by-token path then reads again, and the containers
    /// nested on the way to the same obstacle would each read them once more: up to the nesting depth
    /// times the document. So the bytes of declined attempts are counted, and once they reach the
    /// document's length this path declines at once, which keeps a whole call within three readings
    /// of the input whatever its shape.
    /// </remarks>
    public bool TrySkipCompactContainer(int maxDepth)
    {
        if (_tokenDepth >= maxDepth || _declinedBytes >= _json.Length)
        {
            return false;
        }

        var json = _json;
        var kinds = _containers;
        int outer = _depth - 1;
        int depth = _depth;
        int pos = _position;
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

        Name:
        if ((uint)pos >= (uint)json.Length || json[pos] != (byte)'"')
        {
            goto Declined;
        }

        end = PlainStringEnd(json, pos);
        if ((uint)end >= (uint)json.Length || json[end] != (byte)':')
        {
            goto Declined;
        }

        pos = end + 1;

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

        _depth = depth;
        _tokenDepth = depth;
        _tokenStart = pos;
        _tokenType = kind == InObject ? JsonTokenType.EndObject : JsonTokenType.EndArray;
        _valueStart = pos;
        _valueLength = 1;
        _escaped = false;
        _position = pos + 1;
        return true;

        Declined:
        _declinedBytes += pos - _position;
        return false;
    }
}
