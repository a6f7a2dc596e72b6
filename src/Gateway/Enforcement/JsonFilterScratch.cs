using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ConsentGateway.Enforcement;

/// <summary>
/// Per-thread reusable state of <see cref="JsonFieldFilter"/> (writers, unescape buffer, hash buffer),
/// so that filtering a document allocates nothing once a thread has warmed up. Taken out of the
/// thread-static slot while in use, so a re-entrant call simply builds its own.
/// </summary>
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "Lives for the thread; the writers hold only managed buffers and are reset after every use.")]
internal sealed class JsonFilterScratch
{
    // Buffers that grew past these sizes for one large document are dropped afterwards instead of
    // pinning megabytes to every thread that ever saw such a document.
    private const int InitialBytes = 256;
    private const int RetainedBytes = 16 * 1024;
    private const int RetainedHashBytes = 64 * 1024;

    [ThreadStatic]
    private static JsonFilterScratch? t_cached;

    private Utf8JsonWriter? _textWriter;
    private Utf8JsonWriter? _hashWriter;
    private ArrayBufferWriter<byte> _textBuffer = new(InitialBytes);
    private ArrayBufferWriter<byte> _hashBuffer = new(InitialBytes);
    private byte[] _bytes = new byte[InitialBytes];

    public static JsonFilterScratch Rent()
    {
        var scratch = t_cached ?? new JsonFilterScratch();
        t_cached = null;
        return scratch;
    }

    public void Return()
    {
        // Writers must not keep the caller's output (a request body full of personal data) reachable.
        _textWriter?.Reset(NullBufferWriter.Instance);
        _hashWriter?.Reset(NullBufferWriter.Instance);
        // Clear rather than just rewind: the buffers held personal values.
        _hashBuffer.Clear();
        _textBuffer.Clear();
        if (_textBuffer.Capacity > RetainedBytes)
        {
            _textBuffer = new ArrayBufferWriter<byte>(InitialBytes);
        }

        if (_hashBuffer.Capacity > RetainedHashBytes)
        {
            _hashBuffer = new ArrayBufferWriter<byte>(InitialBytes);
        }

        if (_bytes.Length > RetainedBytes)
        {
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = new byte[InitialBytes];
        }

        t_cached = this;
    }

    /// <summary>
    /// The quoted, escaped form the compact writer gives the UTF-8 text <paramref name="utf8"/> (as a string
    /// value or a property name: both escape alike); valid until the next call. Only escaped or
    /// non-ASCII text takes this path, so a writer reset per call costs little.
    /// </summary>
    public ReadOnlySpan<byte> CanonicalString(ReadOnlySpan<byte> utf8)
    {
        _textBuffer.ResetWrittenCount();
        var writer = _textWriter ??= new Utf8JsonWriter(_textBuffer, Options(1));
        writer.Reset(_textBuffer);
        writer.WriteStringValue(utf8);
        writer.Flush();
        return _textBuffer.WrittenSpan;
    }

    /// <summary>A writer into an empty scratch buffer, for the compact form of a value being hashed.</summary>
    public Utf8JsonWriter HashWriter(int maxDepth)
    {
        _hashBuffer.ResetWrittenCount();
        var writer = _hashWriter;
        if (writer is null || writer.Options.MaxDepth != maxDepth + 1)
        {
            writer = _hashWriter = new Utf8JsonWriter(_hashBuffer, Options(maxDepth));
        }
        else
        {
            writer.Reset(_hashBuffer);
        }

        return writer;
    }

    public ReadOnlySpan<byte> HashWritten => _hashBuffer.WrittenSpan;

    /// <summary>A buffer of at least <paramref name="length"/> bytes; contents are not preserved.</summary>
    public byte[] Bytes(int length)
    {
        if (_bytes.Length < length)
        {
            var old = _bytes;
            _bytes = ArrayPool<byte>.Shared.Rent(length);
            if (old.Length > InitialBytes)
            {
                ArrayPool<byte>.Shared.Return(old);
            }
        }

        return _bytes;
    }

    private static JsonWriterOptions Options(int maxDepth) => new()
    {
        // The reader already validated the structure; the writer only has to emit it.
        SkipValidation = true,
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = maxDepth + 1,
    };

    private sealed class NullBufferWriter : IBufferWriter<byte>
    {
        public static readonly NullBufferWriter Instance = new();

        public void Advance(int count)
        {
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => Array.Empty<byte>();

        public Span<byte> GetSpan(int sizeHint = 0) => Array.Empty<byte>();
    }
}
