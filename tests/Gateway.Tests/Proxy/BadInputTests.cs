using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ConsentGateway.Tests.Infrastructure;
using static ConsentGateway.Tests.Infrastructure.GatewayHost;

namespace ConsentGateway.Tests.Proxy;

/// <summary>Every bad-input row of SPEC §4: the right status, problem+json, and nothing forwarded.</summary>
public sealed class BadInputTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private GatewayHost Gateway => fixture.Gateway;

    private RecordingUpstream Upstream => fixture.Upstream;

    public static TheoryData<string, int, string> Cases => new()
    {
        { "no-api-key", 401, "api-key-missing" },
        { "wrong-api-key", 401, "api-key-invalid" },
        { "two-api-keys", 400, "api-key-ambiguous" },
        { "underscore-api-key-twin", 400, "api-key-ambiguous" },
        { "no-purpose", 400, "purpose-missing" },
        { "two-purposes", 400, "purpose-ambiguous" },
        { "purpose-list", 400, "purpose-ambiguous" },
        { "underscore-purpose-twin", 400, "purpose-ambiguous" },
        { "unknown-purpose", 403, "purpose-unknown" },
        { "purpose-not-registered", 403, "purpose-not-allowed" },
        { "no-subject", 400, "subject-missing" },
        { "two-subjects", 400, "subject-ambiguous" },
        { "subject-list", 400, "subject-ambiguous" },
        { "underscore-subject-twin", 400, "subject-ambiguous" },
        { "mixed-spelling-subject-twin", 400, "subject-ambiguous" },
        { "three-spellings-of-subject", 400, "subject-ambiguous" },
        { "subject-too-long", 400, "subject-invalid" },
        { "query-subject-twice", 400, "subject-ambiguous" },
        { "body-subject-missing", 400, "subject-missing" },
        { "body-subject-duplicate", 400, "subject-ambiguous" },
        { "malformed-json", 400, "json-malformed" },
        { "trailing-comma", 400, "json-malformed" },
        { "invalid-utf8", 400, "json-invalid-utf8" },
        { "too-deep", 400, "json-too-deep" },
        { "too-large", 413, "body-too-large" },
        { "too-large-after-gzip", 413, "body-too-large" },
        { "text-plain", 415, "unsupported-media-type" },
        { "no-content-type", 415, "unsupported-media-type" },
        { "latin1-charset", 415, "unsupported-media-type" },
        { "unknown-encoding", 415, "unsupported-encoding" },
        { "stacked-encoding", 415, "unsupported-encoding" },
        { "corrupt-gzip", 400, "json-malformed" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_is_refused_with_problem_json_and_nothing_is_forwarded(string name, int status, string type)
    {
        Upstream.Reset();
        using var request = Build(name);
        using var response = await Gateway.Proxy.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!.AsObject();
        Assert.Equal("urn:consent-gateway:problem:" + type, (string?)problem["type"]);
        Assert.Equal(status, (int)problem["status"]!);
        Assert.Empty(Upstream.Received);
        // Never echo what the caller sent.
        Assert.DoesNotContain("ann@example.com", body, StringComparison.Ordinal);
        Assert.DoesNotContain("subject-secret", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unrouted_path_is_a_problem_404_and_not_forwarded()
    {
        Upstream.Reset();
        using var response = await Gateway.Proxy.GetAsync("/nowhere");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(Upstream.Received);
    }

    private static HttpRequestMessage Build(string name)
    {
        const string subject = "subject-secret";
        const string valid = """{"email":"ann@example.com","tier":"gold"}""";
        HttpRequestMessage Post(string path = "/customers/x", string? purpose = "marketing", string? subj = subject, string? key = TestConfig.ApiKey)
        {
            var r = Request(HttpMethod.Post, path, purpose, subj, key);
            r.Content = Json(valid);
            return r;
        }

        HttpRequestMessage WithBody(byte[] bytes, string? contentType = "application/json", params string[] encodings)
        {
            var r = Request(HttpMethod.Post, "/customers/x", "marketing", subject);
            r.Content = new ByteArrayContent(bytes);
            if (contentType is not null)
            {
                r.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }

            foreach (var encoding in encodings)
            {
                r.Content.Headers.ContentEncoding.Add(encoding);
            }

            return r;
        }

        HttpRequestMessage Add(HttpRequestMessage r, string header, string value)
        {
            r.Headers.TryAddWithoutValidation(header, value);
            return r;
        }

        return name switch
        {
            "no-api-key" => Post(key: null),
            "wrong-api-key" => Post(key: "nope"),
            "two-api-keys" => Add(Post(), "X-Api-Key", TestConfig.ApiKey),
            "underscore-api-key-twin" => Add(Post(), "x_api_key", TestConfig.ApiKey),
            "no-purpose" => Post(purpose: null),
            "two-purposes" => Add(Post(), "X-Purpose", "analytics"),
            "purpose-list" => Post(purpose: "marketing, analytics"),
            "underscore-purpose-twin" => Add(Post(), "X_Purpose", "fulfilment"),
            "unknown-purpose" => Post(purpose: "world-domination"),
            "purpose-not-registered" => Post(purpose: "analytics", key: TestConfig.LimitedApiKey),
            "no-subject" => Post(subj: null),
            "two-subjects" => Add(Post(), "X-Subject-Id", "someone-else"),
            "subject-list" => Post(subj: "a,b"),
            "underscore-subject-twin" => Add(Post(), "X_Subject_Id", "someone-else"),
            "mixed-spelling-subject-twin" => Add(Post(), "x-SUBJECT_id", subject),
            "three-spellings-of-subject" => Add(Add(Post(), "X_Subject-Id", subject), "X-Subject_Id", subject),
            "subject-too-long" => Post(subj: new string('x', 300)),
            "query-subject-twice" => Post(path: "/by-query/x?subject=a&subject=b", subj: null),
            "body-subject-missing" => Post(path: "/by-body/x", subj: null),
            "body-subject-duplicate" => BodyRoute("""{"customer":{"id":"a","ID":"b"},"email":"ann@example.com"}"""),
            "malformed-json" => WithBody("{\"email\":\"ann@example.com\""u8.ToArray()),
            "trailing-comma" => WithBody("{\"email\":\"ann@example.com\",}"u8.ToArray()),
            "invalid-utf8" => WithBody([.. "{\"email\":\""u8, 0xC3, 0x28, .. "\"}"u8]),
            "too-deep" => WithBody(Encoding.UTF8.GetBytes(new string('[', 65) + new string(']', 65))),
            "too-large" => WithBody(Encoding.UTF8.GetBytes("{\"pad\":\"" + new string('a', 1024 * 1024) + "\"}")),
            "too-large-after-gzip" => WithBody(Gzip(Encoding.UTF8.GetBytes("{\"pad\":\"" + new string('a', 2 * 1024 * 1024) + "\"}")), "application/json", "gzip"),
            "text-plain" => WithBody(Encoding.UTF8.GetBytes(valid), "text/plain"),
            "no-content-type" => WithBody(Encoding.UTF8.GetBytes(valid), null),
            "latin1-charset" => WithBody(Encoding.UTF8.GetBytes(valid), "application/json; charset=iso-8859-1"),
            "unknown-encoding" => WithBody(Encoding.UTF8.GetBytes(valid), "application/json", "compress"),
            "stacked-encoding" => WithBody(Gzip(Gzip(Encoding.UTF8.GetBytes(valid))), "application/json", "gzip", "gzip"),
            "corrupt-gzip" => WithBody([0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6, 7], "application/json", "gzip"),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        static HttpRequestMessage BodyRoute(string json)
        {
            var r = Request(HttpMethod.Post, "/by-body/x", "marketing", null);
            r.Content = Json(json);
            return r;
        }
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }
}
