using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Transforms;

namespace PlainProxy;

/// <summary>
/// <c>--buffer-json true</c>: the floor under any proxy that enforces on JSON bodies the way the gateway
/// must (fail-closed: nothing is forwarded before the whole body has been checked). Each JSON body,
/// request and response, is read whole into pooled memory, checked (valid UTF-8, then one
/// <see cref="Utf8JsonReader"/> pass, the physical limit of tokenising it) and forwarded from that
/// buffer with its exact Content-Length. Nothing is authenticated, looked up or changed. The load
/// tests run it beside plain YARP and the gateway (<c>loadtests/run.sh --floor</c>), so the cost of
/// buffering and one check is measured on its own, in the same run as the gateway's.
/// </summary>
internal static class BufferedJson
{
    private const int DefaultCapacity = 16 * 1024;

    /// <summary>Proxy pipeline step: buffers and checks a JSON request body, then forwards from the buffer.</summary>
    public static async Task BufferRequestAsync(HttpContext context, Func<Task> next)
    {
        var request = context.Request;
        var canHaveBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? request.ContentLength > 0;
        if (!canHaveBody || request.ContentLength == 0 || !IsJson(request.ContentType) || request.Headers.ContentEncoding.Count > 0)
        {
            await next().ConfigureAwait(false);
            return;
        }

        var (buffer, length) = await ReadAsync(request.Body, (int)Math.Min(request.ContentLength ?? DefaultCapacity, int.MaxValue - 1), context.RequestAborted).ConfigureAwait(false);
        try
        {
            if (!IsValid(buffer.AsSpan(0, length)))
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            request.Body = new MemoryStream(buffer, 0, length, writable: false);
            request.ContentLength = length;
            request.Headers.Remove("Transfer-Encoding");
            await next().ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Response transform: buffers and checks a JSON response body, then writes it with its length.</summary>
    public static async ValueTask BufferResponseAsync(ResponseTransformContext context)
    {
        var content = context.ProxyResponse?.Content;
        if (content is null || content.Headers.ContentLength == 0 || content.Headers.ContentEncoding.Count > 0
            || !content.Headers.NonValidated.TryGetValues("Content-Type", out var type) || !IsJson(type.ToString()))
        {
            return;
        }

        context.SuppressResponseBody = true;
        var stream = await content.ReadAsStreamAsync(context.CancellationToken).ConfigureAwait(false);
        var (buffer, length) = await ReadAsync(stream, (int)Math.Min(content.Headers.ContentLength ?? DefaultCapacity, int.MaxValue - 1), context.CancellationToken).ConfigureAwait(false);
        try
        {
            var response = context.HttpContext.Response;
            if (!IsValid(buffer.AsSpan(0, length)))
            {
                response.StatusCode = StatusCodes.Status502BadGateway;
                response.ContentLength = 0;
                return;
            }

            response.Headers.Remove("Transfer-Encoding");
            response.ContentLength = length;
            await response.Body.WriteAsync(buffer.AsMemory(0, length), context.CancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase);

    /// <summary>The reader alone does not validate the UTF-8 of strings it is never asked to decode.</summary>
    private static bool IsValid(ReadOnlySpan<byte> json)
    {
        if (!Utf8.IsValid(json))
        {
            return false;
        }

        var reader = new Utf8JsonReader(json);
        try
        {
            while (reader.Read())
            {
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The whole stream in one pooled array (the caller returns it), sized from the announced length.</summary>
    private static async ValueTask<(byte[] Buffer, int Length)> ReadAsync(Stream body, int expected, CancellationToken cancellationToken)
    {
        // One byte more than announced, so a body of exactly that length ends in one read, without a second array.
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(expected + 1, 256));
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
