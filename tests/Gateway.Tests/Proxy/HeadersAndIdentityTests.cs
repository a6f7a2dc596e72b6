using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ConsentGateway.Tests.Infrastructure;
using static ConsentGateway.Tests.Infrastructure.GatewayHost;

namespace ConsentGateway.Tests.Proxy;

/// <summary>
/// Header and query rules, the gateway's own X-Consent-* statements, every subject source, and the
/// route settings that decide which of them apply (direction, report mode): checked on what the
/// upstream actually received and what the caller actually got.
/// </summary>
public sealed class HeadersAndIdentityTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private const string Person = """{"email":"ann@example.com","tier":"gold"}""";

    private const string Customer = """{"id":"c-1","email":"ann@example.com","name":"Ann","phone":"+33 6 12","tier":"gold","addresses":[{"street":"1 Rue","city":"Paris"}],"location":{"lat":48.85,"lon":2.35},"card":"4111111111111111"}""";

    private const string Stripped = """{"id":"c-1","tier":"gold","addresses":[{"city":"Paris"}]}""";

    private GatewayHost Gateway => fixture.Gateway;

    private RecordingUpstream Upstream => fixture.Upstream;

    [Fact]
    public async Task Device_id_header_never_reaches_the_upstream_for_marketing_in_either_spelling_even_after_grant()
    {
        var subject = GatewayFixture.NewSubject();
        foreach (var granted in new[] { false, true })
        {
            if (granted)
            {
                await Gateway.GrantAsync(subject, "marketing");
            }

            Upstream.Reset();
            using var response = await Send("/customers/1", subject, "marketing", ("X-Device-Id", "dev-123"), ("X_Device_Id", "dev-456"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var received = Upstream.OnlyRequest();
            Assert.Null(received.Header("X-Device-Id"));
            Assert.Null(received.Header("X_Device_Id"));
            Assert.DoesNotContain(received.Headers.Values.SelectMany(v => v), v => v.Contains("dev-", StringComparison.Ordinal));
            Assert.Contains("user.device.device_id", received.Header("X-Consent-Withheld") ?? string.Empty, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Device_id_header_in_a_mixed_dash_underscore_spelling_is_withheld_too()
    {
        // Servers that fold '-' into '_' (CGI, WSGI, nginx with underscores: HTTP_X_DEVICE_ID) fold each separator,
        // so a mixed spelling reaches such a backend as the very same header.
        Upstream.Reset();
        using var response = await Send("/customers/1", GatewayFixture.NewSubject(), "marketing", ("X-Device_Id", "dev-123"), ("X_Device-Id", "dev-456"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Upstream.OnlyRequest();
        Assert.DoesNotContain(received.Headers.Values.SelectMany(v => v), v => v.Contains("dev-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Device_id_header_travels_for_analytics_under_legitimate_interest_until_the_subject_objects()
    {
        var subject = GatewayFixture.NewSubject();
        Upstream.Reset();
        using (var response = await Send("/customers/1", subject, "analytics", ("X-Device-Id", "dev-123")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("dev-123", Upstream.OnlyRequest().Header("X-Device-Id"));
            Assert.Equal("allowed", Upstream.OnlyRequest().Header("X-Consent-Decision"));
        }

        await Gateway.GrantAsync(subject, "analytics", status: "denied");
        Upstream.Reset();
        using var denied = await Send("/customers/1", subject, "analytics", ("X-Device-Id", "dev-123"));
        Assert.Null(Upstream.OnlyRequest().Header("X-Device-Id"));
    }

    [Fact]
    public async Task Device_id_header_is_pseudonymised_on_the_hash_route_and_blocks_on_the_block_route()
    {
        var subject = GatewayFixture.NewSubject();
        Upstream.Reset();
        using (var response = await Send("/hash/1", subject, "marketing", ("X-Device-Id", "dev-123"), ("X_Device_Id", "dev-456")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(Pseudonym.Expected(subject, "dev-123"), Upstream.OnlyRequest().Header("X-Device-Id"));
            Assert.Equal(Pseudonym.Expected(subject, "dev-456"), Upstream.OnlyRequest().Header("X_Device_Id"));
        }

        Upstream.Reset();
        using var blocked = await Send("/block/1", subject, "marketing", """{"tier":"gold"}""", isolated: true, ("X-Device-Id", "dev-123"));
        var body = await blocked.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        var problem = JsonNode.Parse(body)!;
        Assert.Equal("urn:consent-gateway:problem:consent-blocked", (string?)problem["type"]);
        Assert.Equal("user.device.device_id", (string?)problem["categories"]![0]);
        Assert.DoesNotContain("dev-123", body, StringComparison.Ordinal);
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task Upstream_device_id_response_header_is_stripped_on_the_response_only_route()
    {
        Upstream.Reset();
        Upstream.RespondWithJson("""{"tier":"gold"}""", headers: r =>
        {
            r.Headers["X-Device-Id"] = "dev-up";
            r.Headers["X_Device_Id"] = "dev-up2";
        });
        using var response = await Send("/response-only/1", GatewayFixture.NewSubject(), "marketing");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Device-Id"));
        Assert.False(response.Headers.Contains("X_Device_Id"));
        Assert.Equal("user.device.device_id", string.Join(",", response.Headers.GetValues("X-Consent-Withheld")));

        Upstream.Reset();
        Upstream.RespondWithJson("""{"tier":"gold"}""", headers: r => r.Headers["X-Device-Id"] = "dev-up");
        using var analytics = await Send("/response-only/1", GatewayFixture.NewSubject(), "analytics");
        Assert.Equal("dev-up", string.Join(",", analytics.Headers.GetValues("X-Device-Id")));
    }

    [Fact]
    public async Task Email_query_parameter_is_stripped_in_every_spelling_and_other_parameters_keep_their_order()
    {
        Upstream.Reset();
        using var response = await Send("/customers/1?a=1&email=ann%40example.com&b=x%2By&%65mail=bob%40example.com&EMAIL=c%40d&c=3&email=e%40f", GatewayFixture.NewSubject(), "marketing");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Upstream.OnlyRequest();
        Assert.Equal("?a=1&b=x%2By&c=3", received.QueryString);
        Assert.Contains("user.contact.email", received.Header("X-Consent-Withheld") ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_rewrite_keeps_a_repeated_parameter_in_its_original_positions()
    {
        Upstream.Reset();
        using var response = await Send("/customers/1?sort=a&email=ann%40example.com&page=2&sort=b", GatewayFixture.NewSubject(), "marketing");
        Assert.Equal("?sort=a&page=2&sort=b", Upstream.OnlyRequest().QueryString);
    }

    [Fact]
    public async Task Email_query_parameter_is_redacted_hashed_blocked_or_left_alone_as_the_route_and_consent_say()
    {
        var subject = GatewayFixture.NewSubject();
        Upstream.Reset();
        using (await Send("/redact/1?email=ann%40example.com&a=1", subject, "marketing"))
        {
            Assert.Equal("?email=&a=1", Upstream.OnlyRequest().QueryString);
        }

        Upstream.Reset();
        using (await Send("/hash/1?a=1&email=ann%40example.com", subject, "marketing"))
        {
            Assert.Equal("?a=1&email=" + Pseudonym.Expected(subject, "ann@example.com"), Upstream.OnlyRequest().QueryString);
        }

        Upstream.Reset();
        using (var blocked = await Send("/block/1?email=ann%40example.com", subject, "marketing", """{"tier":"gold"}""", isolated: true))
        {
            Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
            Assert.DoesNotContain("ann@example.com", await blocked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Empty(Upstream.Received);
        }

        // Nothing to withhold: the query string travels byte for byte.
        Upstream.Reset();
        using (await Send("/customers/1?email=ann%40example.com&q=a+b&x=%2F", subject, "analytics"))
        {
            Assert.Equal("?email=ann%40example.com&q=a+b&x=%2F", Upstream.OnlyRequest().QueryString);
        }
    }

    [Fact]
    public async Task Forged_consent_headers_from_the_caller_never_reach_the_upstream()
    {
        Upstream.Reset();
        using (await Send(
            "/customers/1", GatewayFixture.NewSubject(), "marketing",
            ("X-Consent-Decision", "allowed"), ("X_Consent_Withheld", "none"), ("x-consent-would-withhold", "none"), ("X-Consent-Override", "1"), ("X_Consent_Decision", "allowed")))
        {
            var received = Upstream.OnlyRequest();
            Assert.Equal(new[] { "filtered" }, received.Headers["X-Consent-Decision"]);
            Assert.Equal(new[] { "user.contact.email" }, received.Headers["X-Consent-Withheld"]);
            Assert.DoesNotContain(received.Headers.Keys, k => k.StartsWith("X_", StringComparison.OrdinalIgnoreCase));
            Assert.Null(received.Header("X-Consent-Would-Withhold"));
            Assert.Null(received.Header("X-Consent-Override"));
        }

        Upstream.Reset();
        using (await Send("/customers/1", GatewayFixture.NewSubject(), "marketing", """{"tier":"gold"}""", ("X-Consent-Decision", "filtered"), ("X-Consent-Withheld", "user.name")))
        {
            var received = Upstream.OnlyRequest();
            Assert.Equal(new[] { "allowed" }, received.Headers["X-Consent-Decision"]);
            Assert.Null(received.Header("X-Consent-Withheld"));
        }
    }

    [Fact]
    public async Task The_callers_api_key_is_not_forwarded_upstream()
    {
        Upstream.Reset();
        using var response = await Send("/customers/1", GatewayFixture.NewSubject(), "marketing");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Upstream.OnlyRequest();
        Assert.Null(received.Header("X-Api-Key"));
        Assert.Equal(new[] { "marketing" }, received.Headers["X-Purpose"]);
    }

    [Theory]
    [InlineData("X_Api_Key")]
    [InlineData("X-Api_Key")]
    [InlineData("x_api-KEY")]
    public async Task The_callers_api_key_is_not_forwarded_in_any_spelling_it_was_accepted_in(string spelling)
    {
        // The key authenticates in any '-'/'_' spelling (servers that fold them read it as one header), so it must
        // be taken off the forwarded request in that spelling too: an upstream must never be handed a caller's key.
        Upstream.Reset();
        using var request = Request(HttpMethod.Post, "/customers/1", "marketing", GatewayFixture.NewSubject(), apiKey: null);
        request.Content = Json(Person);
        Assert.True(request.Headers.TryAddWithoutValidation(spelling, TestConfig.ApiKey));
        using var response = await Gateway.Proxy.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Upstream.OnlyRequest();
        Assert.DoesNotContain(received.Headers, h => HeaderSpellingOf("X-Api-Key", h.Key));
        Assert.DoesNotContain(received.Headers.Values.SelectMany(v => v), v => v.Contains(TestConfig.ApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Purpose_and_subject_are_read_in_any_spelling_and_case_and_consent_follows_that_subject()
    {
        var granted = GatewayFixture.NewSubject();
        await Gateway.GrantAsync(granted, "marketing");
        foreach (var (subject, expectEmail) in new[] { (granted, true), (GatewayFixture.NewSubject(), false) })
        {
            Upstream.Reset();
            Upstream.RespondWithJson(Person);
            using var request = Request(HttpMethod.Post, "/customers/1", purpose: null, subject: null);
            Assert.True(request.Headers.TryAddWithoutValidation("x_PURPOSE", "marketing"));
            Assert.True(request.Headers.TryAddWithoutValidation("X_subject-ID", subject));
            request.Content = Json(Person);
            using var response = await Gateway.Proxy.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(expectEmail, JsonNode.Parse(Upstream.OnlyRequest().BodyText)!.AsObject().ContainsKey("email"));
            Assert.Equal(expectEmail, body.Contains("ann@example.com", StringComparison.Ordinal));
        }
    }

    private static bool HeaderSpellingOf(string name, string candidate) =>
        candidate.Length == name.Length && candidate.Replace('_', '-').Equals(name, StringComparison.OrdinalIgnoreCase);

    [Theory]
    [InlineData("/customers/1", "filtered", "user.contact.email")]
    [InlineData("/request-only/1", "filtered", "user.contact.email")]
    [InlineData("/response-only/1", "allowed", null)]
    public async Task Forged_consent_headers_from_the_upstream_are_replaced_by_the_gateways_own(string path, string decision, string? withheld)
    {
        Upstream.Reset();
        Upstream.RespondWithJson("""{"tier":"gold"}""", headers: r =>
        {
            r.Headers["X-Consent-Decision"] = "forged";
            r.Headers["X-Consent-Withheld"] = "forged";
            r.Headers["X_Consent_Decision"] = "forged";
            r.Headers["X-Consent-Would-Withhold"] = "forged";
        });
        using var response = await Send(path, GatewayFixture.NewSubject(), "marketing");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var all = response.Headers.Concat(response.Content.Headers).ToList();
        Assert.DoesNotContain(all, h => h.Value.Any(v => v.Contains("forged", StringComparison.Ordinal)));
        Assert.Equal(decision, string.Join(",", response.Headers.GetValues("X-Consent-Decision")));
        Assert.Equal(withheld, response.Headers.TryGetValues("X-Consent-Withheld", out var w) ? string.Join(",", w) : null);
    }

    public static TheoryData<string> SubjectSources => ["header", "route", "query", "body", "fixed"];

    [Theory]
    [MemberData(nameof(SubjectSources))]
    public async Task Consent_follows_the_resolved_subject_and_never_the_wrong_one(string source)
    {
        var a = GatewayFixture.NewSubject();
        var b = GatewayFixture.NewSubject();
        await Gateway.GrantAsync(a, "marketing");

        foreach (var (subject, expectEmail) in new[] { (a, true), (b, false) })
        {
            Upstream.Reset();
            Upstream.RespondWithJson(Person);
            // Wherever the subject comes from, a header naming the consenting subject must not count.
            var decoy = source == "header" ? null : a;
            using var request = source switch
            {
                "header" => Request(HttpMethod.Post, "/customers/1", "marketing", subject),
                "route" => Request(HttpMethod.Post, $"/by-id/{subject}", "marketing", decoy),
                "query" => Request(HttpMethod.Post, $"/by-query/x?subject={subject}", "marketing", decoy),
                "body" => Request(HttpMethod.Post, "/by-body/x", "marketing", decoy),
                // The fixed purpose is marketing: a caller declaring a contract purpose changes nothing.
                _ => Request(HttpMethod.Post, "/fixed/1", expectEmail ? null : "fulfilment", subject),
            };
            request.Content = Json(source == "body" ? $$"""{"customer":{"id":"{{subject}}"},"email":"ann@example.com","tier":"gold"}""" : Person);
            using var response = await Gateway.Proxy.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var sent = JsonNode.Parse(Upstream.OnlyRequest().BodyText)!.AsObject();
            Assert.Equal(expectEmail, sent.ContainsKey("email"));
            Assert.Equal("gold", (string?)sent["tier"]);
            if (source != "body")
            {
                // by-body filters the request only; every other route filters the response too.
                Assert.Equal(expectEmail, body.Contains("ann@example.com", StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task Request_only_route_filters_the_request_and_leaves_the_response_untouched()
    {
        Upstream.Reset();
        var subject = GatewayFixture.NewSubject();
        Upstream.RespondWithJson(Customer, headers: r => r.Headers.ETag = "\"v1\"");
        using var request = Request(HttpMethod.Post, "/request-only/1", "marketing", subject);
        request.Content = Json(Customer);
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
        using var response = await Gateway.Proxy.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Stripped, Upstream.OnlyRequest().BodyText);
        Assert.Equal(Customer, body);
        Assert.Equal("\"v1\"", response.Headers.ETag?.Tag);
        // No response rules: nothing forces the upstream into identity coding.
        Assert.Equal("gzip", Upstream.OnlyRequest().Header("Accept-Encoding"));
    }

    [Fact]
    public async Task Response_only_route_forwards_the_request_untouched_and_filters_the_response()
    {
        Upstream.Reset();
        var subject = GatewayFixture.NewSubject();
        const string sent = """{"email":"ann@example.com","deviceId":"d-1","tier":"gold"}""";
        Upstream.RespondWithJson("""{"email":"bob@example.com","tier":"gold"}""");
        using var request = Request(HttpMethod.Post, "/response-only/1", "marketing", subject);
        request.Content = Json(sent);
        request.Headers.TryAddWithoutValidation("X-Device-Id", "dev-123");
        using var response = await Gateway.Proxy.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Upstream.OnlyRequest();
        Assert.Equal(sent, received.BodyText);
        Assert.Equal("dev-123", received.Header("X-Device-Id"));
        Assert.Equal("""{"tier":"gold"}""", body);
        Assert.Equal("filtered", Http.Header(response, "X-Consent-Decision"));
        Assert.Equal("user.contact.email", Http.Header(response, "X-Consent-Withheld"));
    }

    [Fact]
    public async Task Report_mode_changes_no_traffic_and_says_what_would_have_been_withheld()
    {
        Upstream.Reset();
        var subject = GatewayFixture.NewSubject();
        var before = MetricsText.Counter(await Gateway.MetricsAsync(), "gateway_fields_withheld_total", ("route", "report"), ("category", "user.contact.email"), ("action", "would-strip"));
        const string upstreamBody = """{"email":"bob@example.com","name":"Bob","tier":"silver"}""";
        Upstream.RespondWithJson(upstreamBody, headers: r => r.Headers["X-Device-Id"] = "dev-up");
        using var request = Request(HttpMethod.Post, "/report/1?email=ann%40example.com&a=1", "marketing", subject);
        request.Content = Json(Customer);
        request.Headers.TryAddWithoutValidation("X-Device-Id", "dev-123");
        using var response = await Gateway.Proxy.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Upstream.OnlyRequest();
        Assert.Equal(Encoding.UTF8.GetBytes(Customer), received.Body);
        Assert.Equal("?email=ann%40example.com&a=1", received.QueryString);
        Assert.Equal("dev-123", received.Header("X-Device-Id"));
        Assert.Equal("allowed", received.Header("X-Consent-Decision"));
        Assert.Null(received.Header("X-Consent-Withheld"));
        var wouldUp = received.Header("X-Consent-Would-Withhold")!.Split(',');
        Assert.Contains("user.contact.email", wouldUp);
        Assert.Contains("user.device.device_id", wouldUp);

        Assert.Equal(Encoding.UTF8.GetBytes(upstreamBody), body);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.Equal("dev-up", Http.Header(response, "X-Device-Id"));
        Assert.Equal("allowed", Http.Header(response, "X-Consent-Decision"));
        Assert.Null(Http.Header(response, "X-Consent-Withheld"));
        var would = Http.Header(response, "X-Consent-Would-Withhold")!.Split(',');
        Assert.Contains("user.contact.email", would);
        Assert.Contains("user.name", would);
        Assert.Contains("user.financial.credit_card", would);

        var after = await MetricsText.CounterAbove(Gateway, before, "gateway_fields_withheld_total", ("route", "report"), ("category", "user.contact.email"), ("action", "would-strip"));
        Assert.True(after > before, $"gateway_fields_withheld_total would-strip for user.contact.email did not grow ({before} -> {after})");
        Assert.DoesNotMatch("route=\"report\"[^\\n]*action=\"strip\"", await Gateway.MetricsAsync());
    }

    private Task<HttpResponseMessage> Send(string path, string subject, string purpose, params (string Name, string Value)[] headers) =>
        Send(path, subject, purpose, Person, isolated: false, headers);

    private Task<HttpResponseMessage> Send(string path, string subject, string purpose, string json, params (string Name, string Value)[] headers) =>
        Send(path, subject, purpose, json, isolated: false, headers);

    /// <param name="isolated">
    /// Requests that end in a block use their own connection: the gateway currently throws after
    /// writing the 403 and Kestrel drops the connection, which would fail the next request on the
    /// shared client (ActionsAndDirectionsTests.A_blocked_request_leaves_the_callers_connection_usable).
    /// </param>
    private async Task<HttpResponseMessage> Send(string path, string subject, string purpose, string json, bool isolated, params (string Name, string Value)[] headers)
    {
        using var request = Request(HttpMethod.Post, path, purpose, subject);
        request.Content = Json(json);
        foreach (var (name, value) in headers)
        {
            Assert.True(request.Headers.TryAddWithoutValidation(name, value));
        }

        using var own = isolated ? new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None, UseCookies = false }) { BaseAddress = Gateway.ProxyAddress } : null;
        var response = await (own ?? Gateway.Proxy).SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}

file static class Http
{
    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var v) || response.Content.Headers.TryGetValues(name, out v) ? string.Join(",", v) : null;
}

file static class Pseudonym
{
    /// <summary>Computed independently of the gateway: base64url(HMAC-SHA256(key, subject ‖ 0 ‖ value)), unpadded.</summary>
    public static string Expected(string subject, string value)
    {
        var data = Encoding.UTF8.GetBytes(subject).Concat(new byte[] { 0 }).Concat(Encoding.UTF8.GetBytes(value)).ToArray();
        var hash = HMACSHA256.HashData(Convert.FromBase64String(TestConfig.HashKey), data);
        return Convert.ToBase64String(hash).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
