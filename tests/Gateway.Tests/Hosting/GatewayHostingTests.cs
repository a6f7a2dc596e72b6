using System.Net;
using System.Text.Json.Nodes;
using ConsentGateway.Hosting;
using ConsentGateway.Policy;
using ConsentGateway.Tests.Infrastructure;
using static ConsentGateway.Tests.Infrastructure.GatewayHost;

namespace ConsentGateway.Tests.Hosting;

/// <summary>Listener isolation, health, metrics, and the admin surface.</summary>
public sealed class GatewayHostingTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private GatewayHost Gateway => fixture.Gateway;

    [Fact]
    public async Task Admin_endpoints_are_not_served_on_the_proxy_listener()
    {
        foreach (var path in new[] { "/metrics", "/healthz", "/readyz", "/v1/subjects/a/consents" })
        {
            using var response = await Gateway.Proxy.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task Proxied_routes_are_not_served_on_the_admin_listener_even_with_a_forged_host()
    {
        fixture.Upstream.Reset();
        using var request = Request(HttpMethod.Get, "/customers/x", "marketing", "s1");
        request.RequestUri = new Uri(Gateway.AdminAddress, "/customers/x");
        request.Headers.Host = Gateway.ProxyAddress.Authority;
        using var response = await Gateway.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(fixture.Upstream.Received);
    }

    [Fact]
    public async Task Health_and_readiness_report_the_embedded_store()
    {
        Assert.Equal(HttpStatusCode.OK, (await Gateway.Admin.GetAsync("healthz")).StatusCode);
        using var ready = await Gateway.Admin.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.Equal("embedded", (string?)body["store"]!["kind"]);
    }

    [Fact]
    public async Task Metrics_use_the_contract_names_and_never_carry_a_subject_id()
    {
        var subject = "metric-subject-" + Guid.NewGuid().ToString("N");
        fixture.Upstream.Reset();
        using (var request = Request(HttpMethod.Post, "/customers/x", "marketing", subject))
        {
            request.Content = Json("""{"email":"leak@example.com","tier":"gold"}""");
            using var response = await Gateway.Proxy.SendAsync(request);
            response.EnsureSuccessStatusCode();
        }

        // The outcome is counted once forwarding has finished, which can be just after the caller has its
        // answer: wait for the counters rather than racing them.
        const string Withheld = "gateway_fields_withheld_total{route=\"customers\",purpose=\"marketing\",category=\"user.contact.email\",action=\"strip\"}";
        const string Filtered = "gateway_requests_total{route=\"customers\",purpose=\"marketing\",decision=\"filtered\"}";
        var metrics = string.Empty;
        await PolicyLoadingTests.WaitUntil(async () =>
        {
            metrics = await Gateway.MetricsAsync();
            return metrics.Contains(Withheld, StringComparison.Ordinal) && metrics.Contains(Filtered, StringComparison.Ordinal);
        });

        foreach (var name in new[]
        {
            "gateway_requests_total", "gateway_fields_withheld_total", "gateway_request_duration_seconds", "gateway_enforcement_duration_seconds",
            "consent_lookups_total", "consent_store_up", "gateway_policy_reloads_total",
        })
        {
            Assert.Contains(name, metrics, StringComparison.Ordinal);
        }

        Assert.Contains(Withheld, metrics, StringComparison.Ordinal);
        Assert.Contains(Filtered, metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(subject, metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("leak@example.com", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consent_api_requires_an_admin_key()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.AdminAddress };
        using var response = await anonymous.GetAsync("v1/subjects/a/consents");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "v1/subjects/a/consents");
        wrong.Headers.Add("X-Admin-Key", "guess");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(wrong)).StatusCode);
    }

    [Fact]
    public async Task Consent_write_returns_a_receipt_and_rejects_unknown_purposes_and_bad_fields()
    {
        using var ok = await Gateway.Admin.PutAsync("v1/subjects/receipt-subject/consents/marketing", Json("""{"status":"granted","source":"test"}"""));
        ok.EnsureSuccessStatusCode();
        var receipt = JsonNode.Parse(await ok.Content.ReadAsStringAsync())!;
        Assert.Equal("receipt-subject", (string?)receipt["subject"]);
        Assert.Equal("marketing", (string?)receipt["purpose"]);
        Assert.Equal("granted", (string?)receipt["status"]);
        Assert.True((long)receipt["version"]! >= 1);

        using var unknown = await Gateway.Admin.PutAsync("v1/subjects/receipt-subject/consents/nope", Json("""{"status":"granted"}"""));
        Assert.Equal((HttpStatusCode)422, unknown.StatusCode);

        using var bad = await Gateway.Admin.PutAsync("v1/subjects/receipt-subject/consents/marketing", Json("""{"status":"maybe"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("status", (string?)JsonNode.Parse(await bad.Content.ReadAsStringAsync())!["field"]);
    }
}

/// <summary>Start-up validation (fail fast naming the key) and hot reload (keep the last good policy).</summary>
public sealed class PolicyLoadingTests
{
    [Fact]
    public async Task Invalid_policy_stops_start_up_with_a_message_naming_the_bad_key()
    {
        await using var upstream = await RecordingUpstream.StartAsync();
        var config = TestConfig.Create(upstream.BaseAddress);
        config["Policy"]!["Purposes"]!["marketing"]!["Basis"] = "vibes";
        config["Policy"]!["Routes"]!["customers"]!["Fields"]![0]!["Path"] = "$..";
        config["ReverseProxy"]!["Routes"]!["unguarded"] = new JsonObject { ["ClusterId"] = "upstream", ["Match"] = new JsonObject { ["Path"] = "/open" } };

        var ex = await Assert.ThrowsAsync<PolicyValidationException>(() => GatewayHost.StartAsync(config));
        Assert.Contains("Policy:Purposes:marketing:Basis", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Policy:Routes:customers:Fields:0:Path", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ReverseProxy:Routes:unguarded has no consent policy", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Body_paths_too_complex_to_compile_stop_start_up_naming_the_route()
    {
        await using var upstream = await RecordingUpstream.StartAsync();
        var config = TestConfig.Create(upstream.BaseAddress);
        var fields = new JsonArray();
        for (var i = 0; i < 13; i++)
        {
            fields.Add(TestConfig.Field($"$..a{i}..z", "user.contact.email"));
        }

        config["Policy"]!["Routes"]!["customers"]!["Fields"] = fields;

        var ex = await Assert.ThrowsAsync<PolicyValidationException>(() => GatewayHost.StartAsync(config));
        Assert.Contains("Policy:Routes:customers:Fields", ex.Message, StringComparison.Ordinal);
        Assert.Contains("matcher states", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hot_reload_applies_a_valid_policy_and_keeps_the_last_good_one_when_invalid()
    {
        await using var upstream = await RecordingUpstream.StartAsync();
        var config = TestConfig.Create(upstream.BaseAddress);
        await using var gateway = await GatewayHost.StartAsync(config);
        var provider = (PolicyProvider)gateway.Services.GetService(typeof(PolicyProvider))!;

        // Make "tier" personal: the reload must take effect without a restart.
        config["Policy"]!["Routes"]!["customers"]!["Fields"]!.AsArray().Add(TestConfig.Field("$.tier", "user.contact.tier"));
        await gateway.WriteConfigAsync(config);
        await WaitUntil(() => provider.Current.Routes["customers"].Rules.Length == 10);
        Assert.Equal("""{"other":1}""", await Send(gateway, upstream));

        // An invalid edit is rejected; the previous policy keeps enforcing.
        config["Policy"]!["Purposes"]!["marketing"]!["Basis"] = "vibes";
        await gateway.WriteConfigAsync(config);
        await WaitUntil(async () => (await gateway.MetricsAsync()).Contains("gateway_policy_reloads_total{result=\"failure\"}", StringComparison.Ordinal));
        Assert.Equal(10, provider.Current.Routes["customers"].Rules.Length);
        Assert.Equal("""{"other":1}""", await Send(gateway, upstream));
    }

    [Fact]
    public async Task A_key_revoked_by_a_reload_is_refused_at_once_although_it_was_just_verified()
    {
        await using var upstream = await RecordingUpstream.StartAsync();
        var config = TestConfig.Create(upstream.BaseAddress);
        await using var gateway = await GatewayHost.StartAsync(config);
        var provider = (PolicyProvider)gateway.Services.GetService(typeof(PolicyProvider))!;
        Assert.Contains("\"other\":1", await Send(gateway, upstream), StringComparison.Ordinal); // verified, so remembered

        config["Policy"]!["Callers"]!["app"]!["KeySha256"] = Sha256Hex.Compute("a-rotated-key-0123456789");
        var before = provider.Current;
        await gateway.WriteConfigAsync(config);
        await WaitUntil(() => !ReferenceEquals(provider.Current, before));

        using var request = Request(HttpMethod.Post, "/customers/x", "marketing", "reload-subject");
        request.Content = Json("""{"other":1}""");
        using var response = await gateway.Proxy.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static async Task<string> Send(GatewayHost gateway, RecordingUpstream upstream)
    {
        upstream.Reset();
        using var request = Request(HttpMethod.Post, "/customers/x", "marketing", "reload-subject");
        request.Content = Json("""{"tier":"gold","other":1}""");
        using var response = await gateway.Proxy.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return upstream.OnlyRequest().BodyText;
    }

    private static Task WaitUntil(Func<bool> condition) => WaitUntil(() => Task.FromResult(condition()));

    internal static async Task WaitUntil(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(50);
        }
    }
}
