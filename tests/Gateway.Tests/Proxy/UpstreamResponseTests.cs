using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ConsentGateway.Tests.Infrastructure;
using static ConsentGateway.Tests.Infrastructure.GatewayHost;

namespace ConsentGateway.Tests.Proxy;

/// <summary>
/// What the upstream sends back on a filtered route (codings, bad bodies, bodiless answers, cache
/// headers) and what request bodies look like once the gateway has decoded and filtered them.
/// </summary>
public sealed class UpstreamResponseTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private const string Customer = """{"id":"c-1","email":"ann@example.com","name":"Ann","phone":"+33 6 12","tier":"gold","addresses":[{"street":"1 Rue","city":"Paris"}],"location":{"lat":48.85,"lon":2.35},"card":"4111111111111111"}""";

    private const string Stripped = """{"id":"c-1","tier":"gold","addresses":[{"city":"Paris"}]}""";

    private GatewayHost Gateway => fixture.Gateway;

    private RecordingUpstream Upstream => fixture.Upstream;

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public async Task Encoded_upstream_json_reaches_the_caller_decoded_filtered_and_exactly_sized(string coding)
    {
        Upstream.Reset();
        Upstream.RespondWithBytes(Codec.Encode(coding, Customer), "application/json", headers: r => r.Headers.ContentEncoding = coding);
        using var response = await Get("/customers/1");
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(Stripped, Encoding.UTF8.GetString(body));
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Chunked_upstream_json_is_filtered_and_given_an_exact_content_length()
    {
        Upstream.Reset();
        Upstream.Respond(async (ctx, _) =>
        {
            ctx.Response.ContentType = "application/json";
            var bytes = Encoding.UTF8.GetBytes(Customer);
            await ctx.Response.Body.WriteAsync(bytes.AsMemory(0, 20));
            await ctx.Response.Body.FlushAsync();
            await ctx.Response.Body.WriteAsync(bytes.AsMemory(20));
        });
        using var response = await Get("/customers/1");
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(Stripped, Encoding.UTF8.GetString(body));
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.False(response.Headers.TransferEncodingChunked ?? false);
    }

    [Fact]
    public async Task Upstream_error_statuses_with_json_bodies_are_filtered_too()
    {
        Upstream.Reset();
        Upstream.RespondWithJson(Customer, status: 500);
        using var response = await Get("/customers/1");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(Stripped, await response.Content.ReadAsStringAsync());
    }

    public static TheoryData<string, string?, string?, string> BadUpstreamBodies => new()
    {
        { "unknown-coding", "application/json", "compress", "upstream-body-uninspectable" },
        { "stacked-coding", "application/json", "gzip, gzip", "upstream-body-uninspectable" },
        { "text-plain", "text/plain", null, "upstream-body-uninspectable" },
        { "text-html", "text/html", null, "upstream-body-uninspectable" },
        { "no-content-type", null, null, "upstream-body-uninspectable" },
        { "latin1", "application/json; charset=iso-8859-1", null, "upstream-body-uninspectable" },
        { "truncated", "application/json", null, "upstream-body-invalid" },
        { "trailing-garbage", "application/json", null, "upstream-body-invalid" },
        { "invalid-utf8", "application/json", null, "upstream-body-invalid" },
        { "too-deep", "application/json", null, "upstream-body-invalid" },
        { "corrupt-gzip", "application/json", "gzip", "upstream-body-invalid" },
    };

    [Theory]
    [MemberData(nameof(BadUpstreamBodies))]
    public async Task An_upstream_body_the_gateway_cannot_filter_becomes_a_502_and_none_of_it_reaches_the_caller(string name, string? contentType, string? coding, string slug)
    {
        Upstream.Reset();
        byte[] bytes = name switch
        {
            "truncated" => Encoding.UTF8.GetBytes("{\"email\":\"ann@example.com\",\"tier\":\"gold-secret\""),
            "trailing-garbage" => Encoding.UTF8.GetBytes("""{"email":"ann@example.com","tier":"gold-secret"} {"x":1}"""),
            "invalid-utf8" => [.. Encoding.UTF8.GetBytes("""{"email":"ann@example.com","tier":"gold-secret","x":" """), 0xC3, 0x28, (byte)'"', (byte)'}'],
            "too-deep" => Encoding.UTF8.GetBytes("""{"email":"ann@example.com","tier":"gold-secret","d":""" + new string('[', 65) + new string(']', 65) + "}"),
            "corrupt-gzip" => [0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6, 7, .. Encoding.UTF8.GetBytes("ann@example.com gold-secret")],
            _ => Encoding.UTF8.GetBytes("""{"email":"ann@example.com","tier":"gold-secret"}"""),
        };
        Upstream.RespondWithBytes(bytes, contentType, headers: r =>
        {
            if (coding is not null)
            {
                r.Headers.ContentEncoding = coding;
            }

            r.Headers.ETag = "\"v1\"";
        });
        using var response = await Get("/customers/1");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Single(Upstream.Received);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("urn:consent-gateway:problem:" + slug, (string?)JsonNode.Parse(body)!["type"]);
        Assert.DoesNotContain("ann@example.com", body, StringComparison.Ordinal);
        Assert.DoesNotContain("gold-secret", body, StringComparison.Ordinal);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Null(response.Headers.ETag);
        Assert.Equal(Encoding.UTF8.GetByteCount(body), response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Upstream_204_passes_through()
    {
        Upstream.Reset();
        Upstream.Respond((ctx, _) =>
        {
            ctx.Response.StatusCode = 204;
            return Task.CompletedTask;
        });
        using var response = await Get("/customers/1");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Single(Upstream.Received);
    }

    [Fact]
    public async Task Head_passes_through_with_the_upstream_status_and_no_body()
    {
        Upstream.Reset();
        Upstream.RespondWithJson(Customer);
        using var request = Request(HttpMethod.Head, "/customers/1", "marketing", GatewayFixture.NewSubject());
        using var response = await Gateway.Proxy.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("HEAD", Upstream.OnlyRequest().Method);
    }

    [Fact]
    public async Task Filtered_responses_drop_validators_of_the_original_bytes_and_are_private()
    {
        Upstream.Reset();
        Upstream.RespondWithJson(Customer, headers: r =>
        {
            r.Headers.ETag = "\"v1\"";
            r.Headers.CacheControl = "public, max-age=60, s-maxage=600";
            r.Headers["Content-MD5"] = "bm90LXJlYWw=";
            r.Headers["Digest"] = "sha-256=bm90LXJlYWw=";
        });
        using var response = await Get("/customers/1");
        Assert.Equal(Stripped, await response.Content.ReadAsStringAsync());

        Assert.Null(response.Headers.ETag);
        Assert.False(response.Content.Headers.Contains("Content-MD5"));
        Assert.False(response.Headers.Contains("Digest"));
        var cache = response.Headers.CacheControl!;
        Assert.True(cache.Private);
        Assert.False(cache.Public);
        Assert.Null(cache.SharedMaxAge);
        Assert.Equal(TimeSpan.FromSeconds(60), cache.MaxAge);
    }

    [Fact]
    public async Task Gateway_asks_a_route_with_response_rules_for_whole_identity_coded_bodies_and_sizes_both_sides_exactly()
    {
        Upstream.Reset();
        Upstream.RespondWithJson(Customer);
        using var request = Request(HttpMethod.Post, "/customers/1", "marketing", GatewayFixture.NewSubject());
        request.Content = Json(Customer);
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, br");
        request.Headers.TryAddWithoutValidation("Range", "bytes=0-10");
        request.Headers.TryAddWithoutValidation("If-Range", "\"v1\"");
        using var response = await Gateway.Proxy.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        var received = Upstream.OnlyRequest();
        Assert.Null(received.Header("Accept-Encoding"));
        Assert.Null(received.Header("Range"));
        Assert.Null(received.Header("If-Range"));
        Assert.Equal(Stripped, received.BodyText);
        Assert.Equal(received.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Header("Content-Length"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.Equal(Stripped, Encoding.UTF8.GetString(body));
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public async Task Encoded_request_bodies_are_decoded_filtered_and_forwarded_plain(string coding)
    {
        Upstream.Reset();
        using var request = Request(HttpMethod.Post, "/customers/1", "marketing", GatewayFixture.NewSubject());
        request.Content = new ByteArrayContent(Codec.Encode(coding, Customer));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Content.Headers.ContentEncoding.Add(coding);
        using var response = await Gateway.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Upstream.OnlyRequest();
        Assert.Equal(Stripped, received.BodyText);
        Assert.Null(received.Header("Content-Encoding"));
        Assert.Equal(received.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Header("Content-Length"));
    }

    [Fact]
    public async Task Chunked_request_bodies_are_filtered_and_forwarded_with_a_content_length()
    {
        Upstream.Reset();
        using var request = Request(HttpMethod.Post, "/customers/1", "marketing", GatewayFixture.NewSubject());
        request.Content = new StreamContent(new NonSeekableStream(Encoding.UTF8.GetBytes(Customer)));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        Assert.Null(request.Content.Headers.ContentLength);
        using var response = await Gateway.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Upstream.OnlyRequest();
        Assert.Equal(Stripped, received.BodyText);
        Assert.Null(received.Header("Transfer-Encoding"));
        Assert.Equal(received.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Header("Content-Length"));
    }

    [Theory]
    [InlineData("text/json")]
    [InlineData("application/vnd.api+json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json; charset=\"UTF-8\"")]
    public async Task Every_json_media_type_is_filtered(string contentType)
    {
        Upstream.Reset();
        using var response = await Post(Customer, contentType);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Upstream.OnlyRequest();
        Assert.Equal(Stripped, received.BodyText);
        Assert.Equal(MediaTypeHeaderValue.Parse(contentType).MediaType, MediaTypeHeaderValue.Parse(received.Header("Content-Type")!).MediaType);
        // The upstream echoes with the same type: the response side filters it as well.
        Assert.Equal(Stripped, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"\u0065mail":"a@x.io","tier":"gold"}""")]
    [InlineData("""{"EMAIL":"a@x.io","tier":"gold"}""")]
    [InlineData("""{"Email":"a@x.io","tier":"gold"}""")]
    [InlineData("""{"email":"a@x.io","email":"b@x.io","tier":"gold","eMaIl":"c@x.io"}""")]
    [InlineData("""{"\u0045\u004d\u0041\u0049\u004c":"a@x.io","tier":"gold"}""")]
    public async Task Every_spelling_and_duplicate_of_a_personal_key_is_withheld(string json)
    {
        Upstream.Reset();
        using var response = await Post(json);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"tier":"gold"}""", Upstream.OnlyRequest().BodyText);
    }

    [Fact]
    public async Task Numbers_arrive_as_their_original_text_and_unicode_values_intact()
    {
        Upstream.Reset();
        const string kept = """{"n":12345678901234567890123,"m":1e400,"f":-0.000000000000000000001,"i":9007199254740993,"note":"😀 漢字 é ü","ar":"مرحبا","nul":null,"t":true}""";
        var sent = kept[..^1] + ""","email":"a@x.io","phone":"+1 555"}""";
        using var response = await Post(sent);

        var received = Upstream.OnlyRequest();
        Assert.Equal(Encoding.UTF8.GetBytes(kept), received.Body);
        Assert.Equal(kept, await response.Content.ReadAsStringAsync());

        Upstream.Reset();
        using var escaped = await Post("""{"note":"\u00e9\ud83d\ude00\u6f22","tier":"gold"}""");
        Assert.Equal("é😀漢", (string?)JsonNode.Parse(Upstream.OnlyRequest().BodyText)!["note"]);
    }

    [Fact]
    public async Task Depth_64_is_filtered_at_every_level_and_depth_65_is_refused()
    {
        Upstream.Reset();
        string Nest(int depth, string inner) => string.Concat(Enumerable.Repeat("""{"a":""", depth - 1)) + inner + new string('}', depth - 1);
        using var ok = await Post(Nest(64, """{"phone":"+1 555","k":1}"""));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(Nest(64, """{"k":1}"""), Upstream.OnlyRequest().BodyText);

        Upstream.Reset();
        using var arrays = await Post(new string('[', 64) + new string(']', 64));
        Assert.Equal(HttpStatusCode.OK, arrays.StatusCode);
        Assert.Equal(new string('[', 64) + new string(']', 64), Upstream.OnlyRequest().BodyText);

        Upstream.Reset();
        using var tooDeep = await Post(Nest(65, """{"k":1}"""));
        var body = await tooDeep.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, tooDeep.StatusCode);
        Assert.Equal("urn:consent-gateway:problem:json-too-deep", (string?)JsonNode.Parse(body)!["type"]);
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task A_response_with_nothing_to_withhold_streams_through_untouched()
    {
        // analytics (legitimate interest, no objection) may see both fields the response-only route names.
        Upstream.Reset();
        Upstream.RespondWithBytes("<p>not json</p>"u8.ToArray(), "text/html", headers: r => r.Headers.CacheControl = "public, max-age=60");
        using var request = Request(HttpMethod.Get, "/response-only/x", "analytics", GatewayFixture.NewSubject());
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
        using var response = await Gateway.Proxy.SendAsync(request);

        // Inspected, a text/html body is a 502 (see An_upstream_body_the_gateway_cannot_filter_...): it was not buffered.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("<p>not json</p>", await response.Content.ReadAsStringAsync());
        Assert.Equal("allowed", Assert.Single(response.Headers.GetValues("X-Consent-Decision")));
        Assert.False(response.Headers.Contains("X-Consent-Withheld"));
        Assert.True(response.Headers.CacheControl!.Private);
        Assert.False(response.Headers.CacheControl.Public);
        Assert.Equal("gzip", Upstream.OnlyRequest().Header("Accept-Encoding"));

        // The same body for a purpose that must not see the e-mail is inspected, and refused.
        Upstream.Reset();
        Upstream.RespondWithBytes("<p>not json</p>"u8.ToArray(), "text/html");
        using var denied = Request(HttpMethod.Get, "/response-only/x", "marketing", GatewayFixture.NewSubject());
        using var refused = await Gateway.Proxy.SendAsync(denied);
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.DoesNotContain("not json", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> Get(string path)
    {
        using var request = Request(HttpMethod.Get, path, "marketing", GatewayFixture.NewSubject());
        return await Gateway.Proxy.SendAsync(request);
    }

    private async Task<HttpResponseMessage> Post(string json, string contentType = "application/json")
    {
        using var request = Request(HttpMethod.Post, "/customers/1", "marketing", GatewayFixture.NewSubject());
        request.Content = Json(json, contentType);
        return await Gateway.Proxy.SendAsync(request);
    }
}

file static class Codec
{
    public static byte[] Encode(string coding, string text)
    {
        var data = Encoding.UTF8.GetBytes(text);
        using var output = new MemoryStream();
        using (Stream encoder = coding switch
        {
            "gzip" => new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "deflate" => new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "br" => new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true),
            _ => throw new ArgumentOutOfRangeException(nameof(coding)),
        })
        {
            encoder.Write(data);
        }

        return output.ToArray();
    }
}

/// <summary>No length known up front: HttpClient sends it chunked.</summary>
file sealed class NonSeekableStream(byte[] data) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        // Small reads, so the body really crosses the wire in several chunks.
        var n = Math.Min(Math.Min(count, 16), data.Length - _position);
        Array.Copy(data, _position, buffer, offset, n);
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
