using System.Net;
using System.Text.Json.Nodes;
using ConsentGateway.Tests.Infrastructure;
using static ConsentGateway.Tests.Infrastructure.GatewayHost;

namespace ConsentGateway.Tests.Proxy;

/// <summary>Real HTTP through the real gateway to a real upstream, on the embedded store.</summary>
public sealed class EnforcementEndToEndTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private const string Customer = """{"id":"c-1","email":"ann@example.com","name":"Ann","phone":"+33 6 12","tier":"gold","addresses":[{"street":"1 Rue","city":"Paris"},{"street":"2 Ave","city":"Lyon"}],"location":{"lat":48.85,"lon":2.35},"card":"4111111111111111"}""";

    private GatewayHost Gateway => fixture.Gateway;

    private RecordingUpstream Upstream => fixture.Upstream;

    [Fact]
    public async Task Without_consent_personal_fields_are_stripped_both_ways_and_allowed_after_grant()
    {
        Upstream.Reset();
        var subject = GatewayFixture.NewSubject();
        Upstream.RespondWithJson(Customer);

        using var denied = Request(HttpMethod.Post, "/customers/x", "marketing", subject);
        denied.Content = Json(Customer);
        using var response = await Gateway.Proxy.SendAsync(denied);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var sent = JsonNode.Parse(Upstream.OnlyRequest().BodyText)!.AsObject();
        Assert.False(sent.ContainsKey("email"));
        Assert.False(sent.ContainsKey("name"));
        Assert.False(sent.ContainsKey("phone"));
        Assert.Equal("gold", (string?)sent["tier"]);
        Assert.Equal("Paris", (string?)sent["addresses"]![0]!["city"]);
        Assert.False(sent["addresses"]![0]!.AsObject().ContainsKey("street"));
        // marketing does not declare location or financial data: purpose limitation withholds them too.
        Assert.False(sent.ContainsKey("location"));
        Assert.False(sent.ContainsKey("card"));
        Assert.Equal("filtered", Upstream.OnlyRequest().Header("X-Consent-Decision"));

        var returned = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.False(returned.ContainsKey("email"));
        Assert.Equal("gold", (string?)returned["tier"]);
        Assert.Equal("filtered", response.Headers.GetValues("X-Consent-Decision").Single());
        Assert.Contains("user.contact.email", response.Headers.GetValues("X-Consent-Withheld").Single(), StringComparison.Ordinal);
        Assert.Equal(response.Content.Headers.ContentLength, (await response.Content.ReadAsByteArrayAsync()).Length);

        await Gateway.GrantAsync(subject, "marketing");
        Upstream.Reset();
        Upstream.RespondWithJson(Customer);
        using var allowed = Request(HttpMethod.Post, "/customers/x", "marketing", subject);
        allowed.Content = Json(Customer);
        using var response2 = await Gateway.Proxy.SendAsync(allowed);
        var sent2 = JsonNode.Parse(Upstream.OnlyRequest().BodyText)!.AsObject();
        Assert.Equal("ann@example.com", (string?)sent2["email"]);
        Assert.Equal("Ann", (string?)sent2["name"]);
        Assert.Equal("+33 6 12", (string?)sent2["phone"]);
        Assert.False(sent2.ContainsKey("location"));
        var returned2 = JsonNode.Parse(await response2.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("ann@example.com", (string?)returned2["email"]);
    }
}
