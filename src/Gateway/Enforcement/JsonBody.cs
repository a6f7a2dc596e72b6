using System.IO.Compression;
using ConsentGateway.Hosting;
using Microsoft.Net.Http.Headers;

namespace ConsentGateway.Enforcement;

internal enum BodyReadStatus : byte
{
    Ok,
    TooLarge,
    UnsupportedEncoding,
    CorruptEncoding,
}

/// <summary>
/// Reading a JSON body whole, decoded, within a size limit. Filtering needs the complete
/// document (a personal value may sit at the very end), so bodies are buffered in pooled memory;
/// the limit applies to the decoded size so a small compressed body cannot expand without bound.
/// </summary>
internal static class JsonBody
{
    /// <summary>JSON media types in UTF-8 (SPEC §4): application/json, text/json, application/*+json.</summary>
    public static bool IsInspectable(string? contentType)
    {
        // The spellings almost every API sends, settled without parsing (MediaTypeHeaderValue allocates
        // about 200 B per call); anything else is parsed in full below.
        if (contentType is not null
            && (contentType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || contentType.Equals("application/json; charset=utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        if (string.IsNullOrEmpty(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return false;
        }

        var type = media.Type;
        var subType = media.SubType;
        var json = (type.Equals("application", StringComparison.OrdinalIgnoreCase) && (subType.Equals("json", StringComparison.OrdinalIgnoreCase) || subType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
            || (type.Equals("text", StringComparison.OrdinalIgnoreCase) && subType.Equals("json", StringComparison.OrdinalIgnoreCase));
        if (!json)
        {
            return false;
        }

        var charset = media.Charset;
        return !charset.HasValue || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("\"utf-8\"", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Known content codings. Stacked codings ("gzip, br") are refused rather than half-decoded.</summary>
    public static bool TryGetDecoder(string? contentEncoding, out Func<Stream, Stream>? decoder)
    {
        decoder = null;
        if (string.IsNullOrWhiteSpace(contentEncoding))
        {
            return true;
        }

        switch (contentEncoding.Trim().ToLowerInvariant())
        {
            case "identity":
                return true;
            case "gzip" or "x-gzip":
                decoder = static s => new GZipStream(s, CompressionMode.Decompress, leaveOpen: true);
                return true;
            case "deflate":
                // HTTP "deflate" is the zlib format (RFC 9110 §8.4.1.2).
                decoder = static s => new ZLibStream(s, CompressionMode.Decompress, leaveOpen: true);
                return true;
            case "br":
                decoder = static s => new BrotliStream(s, CompressionMode.Decompress, leaveOpen: true);
                return true;
            default:
                return false;
        }
    }

    public static async ValueTask<BodyReadStatus> ReadAsync(Stream body, string? contentEncoding, int limit, PooledBufferWriter destination, CancellationToken cancellationToken)
    {
        if (!TryGetDecoder(contentEncoding, out var decoder))
        {
            return BodyReadStatus.UnsupportedEncoding;
        }

        if (decoder is null)
        {
            return await CopyAsync(body, limit, destination, cancellationToken).ConfigureAwait(false);
        }

        // Buffer the encoded bytes first (bounded by the same limit: a legitimate compressed
        // body is smaller than its decoded form), then decode from memory.
        using var encoded = new PooledBufferWriter(16 * 1024);
        var status = await CopyAsync(body, limit, encoded, cancellationToken).ConfigureAwait(false);
        if (status != BodyReadStatus.Ok)
        {
            return status;
        }

        try
        {
            using var source = new ReadOnlyMemoryStream(encoded.WrittenMemory);
            await using var decoding = decoder(source);
            return await CopyAsync(decoding, limit, destination, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException)
        {
            return BodyReadStatus.CorruptEncoding;
        }
    }

    private static async ValueTask<BodyReadStatus> CopyAsync(Stream source, int limit, PooledBufferWriter destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Read into whatever room is left (the buffer is sized from Content-Length when there is one):
            // asking for a fixed 8 KB would double the buffer and copy the body just to read the final 0.
            var memory = destination.GetMemory(1);
            var read = await source.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return BodyReadStatus.Ok;
            }

            destination.Advance(read);
            if (destination.WrittenCount > limit)
            {
                return BodyReadStatus.TooLarge;
            }
        }
    }
}

/// <summary>A read-only, seekable stream over memory the caller owns (no copy, unlike MemoryStream over a fresh array).</summary>
internal sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => memory.Length;

    public override long Position
    {
        get => _position;
        set => _position = (int)Math.Clamp(value, 0, memory.Length);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, memory.Length - _position);
        memory.Span.Slice(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => memory.Length + offset,
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
