using System.Text.Json.Nodes;
using ConsentGateway.Tests.Infrastructure;
using static ConsentGateway.Tests.Infrastructure.GatewayHost;

namespace ConsentGateway.Tests.Policy;

/// <summary>
/// SPEC §3, every legal basis × consent state, end to end: consent written through the admin
/// API, the request sent through the proxy, the verdict read off what the upstream received.
/// </summary>
public sealed class LegalBasisTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    public static TheoryData<string, string, bool> Matrix => new()
    {
        // consent (GDPR opt-in): only an unexpired grant lets data travel.
        { "marketing", "granted", true },
        { "marketing", "denied", false },
        { "marketing", "none", false },
        { "marketing", "expired", false },
        { "marketing", "granted-future-expiry", true },
        { "marketing", "granted+gpc-header", true },
        // legitimate interest: allowed unless the subject objected.
        { "analytics", "granted", true },
        { "analytics", "denied", false },
        { "analytics", "none", true },
        { "analytics", "expired", true },
        { "analytics", "gpc-header", true },
        // opt-out (CCPA/CPRA): allowed unless denied or a GPC signal, by header or stored.
        { "ads", "granted", true },
        { "ads", "denied", false },
        { "ads", "none", true },
        { "ads", "gpc-header", false },
        { "ads", "gpc-stored", false },
        { "ads", "gpc-header-zero", true },
        // contract and legal obligation: no consent needed, whatever was recorded.
        { "fulfilment", "none", true },
        { "fulfilment", "denied", true },
        { "fulfilment", "gpc-stored", true },
        { "fraud", "none", true },
        { "fraud", "denied", true },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Field_travels_exactly_when_the_legal_basis_allows_it(string purpose, string state, bool allowed)
    {
        var subject = GatewayFixture.NewSubject();
        var gateway = fixture.Gateway;
        switch (state)
        {
            case "granted" or "granted+gpc-header":
                await gateway.GrantAsync(subject, purpose);
                break;
            case "granted-future-expiry":
                await gateway.GrantAsync(subject, purpose, expiresAt: DateTimeOffset.UtcNow.AddDays(1).ToString("O"));
                break;
            case "denied":
                await gateway.GrantAsync(subject, purpose, "denied");
                break;
            case "expired":
                await gateway.GrantAsync(subject, purpose, expiresAt: DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O"));
                break;
            case "gpc-stored":
                await gateway.SetGpcAsync(subject, true);
                break;
        }

        fixture.Upstream.Reset();
        using var request = Request(HttpMethod.Post, "/customers/x", purpose, subject);
        if (state.EndsWith("gpc-header", StringComparison.Ordinal))
        {
            request.Headers.Add("Sec-GPC", "1");
        }
        else if (state == "gpc-header-zero")
        {
            request.Headers.Add("Sec-GPC", "0");
        }

        // fraud declares only financial data; the others declare contact data.
        var field = purpose == "fraud" ? "card" : "email";
        request.Content = Json("""{"email":"ann@example.com","card":"4111111111111111","tier":"gold"}""");
        using var response = await gateway.Proxy.SendAsync(request);
        response.EnsureSuccessStatusCode();

        var sent = JsonNode.Parse(fixture.Upstream.OnlyRequest().BodyText)!.AsObject();
        Assert.Equal(allowed, sent.ContainsKey(field));
        Assert.Equal("gold", (string?)sent["tier"]);
    }

    [Theory]
    [InlineData("marketing", "card")]
    [InlineData("fraud", "email")]
    [InlineData("fulfilment", "card")]
    public async Task Purpose_limitation_withholds_undeclared_categories_whatever_the_consent(string purpose, string undeclaredField)
    {
        var subject = GatewayFixture.NewSubject();
        await fixture.Gateway.GrantAsync(subject, purpose);
        fixture.Upstream.Reset();
        using var request = Request(HttpMethod.Post, "/customers/x", purpose, subject);
        request.Content = Json("""{"email":"ann@example.com","card":"4111111111111111","tier":"gold"}""");
        using var response = await fixture.Gateway.Proxy.SendAsync(request);
        response.EnsureSuccessStatusCode();

        var sent = JsonNode.Parse(fixture.Upstream.OnlyRequest().BodyText)!.AsObject();
        Assert.False(sent.ContainsKey(undeclaredField));
    }
}
