using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Json.Nodes;
using ConsentGateway.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static ConsentGateway.Tests.Infrastructure.GatewayHost;

namespace ConsentGateway.Tests.Proxy;

/// <summary>A gateway whose "by-jwt" route takes the subject from a validated bearer token's claim.</summary>
public sealed class JwtGatewayFixture : GatewayFixture
{
    public const string Issuer = "https://idp.test";
    public const string Audience = "consent-gateway";
    public static readonly byte[] Key = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();

    protected override void Configure(JsonObject config)
    {
        config["Jwt"] = new JsonObject { ["Issuer"] = Issuer, ["Audience"] = Audience, ["SigningKey"] = Convert.ToBase64String(Key) };
        var route = config["Policy"]!["Routes"]!["customers"]!.DeepClone().AsObject();
        route["Subject"] = new JsonObject { ["From"] = "jwt", ["Name"] = "sub" };
        config["Policy"]!["Routes"]!["by-jwt"] = route;
        config["ReverseProxy"]!["Routes"]!["by-jwt"] = new JsonObject { ["ClusterId"] = "upstream", ["Match"] = new JsonObject { ["Path"] = "/by-jwt/{**rest}" } };
    }

    public static string Token(string subject, string issuer = Issuer, string audience = Audience, byte[]? key = null, DateTime? expires = null, string algorithm = SecurityAlgorithms.HmacSha256) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            NotBefore = DateTime.UtcNow.AddMinutes(-5),
            Expires = expires ?? DateTime.UtcNow.AddMinutes(5),
            IssuedAt = DateTime.UtcNow.AddMinutes(-5),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? Key), algorithm),
        });
}

public sealed class JwtSubjectTests(JwtGatewayFixture fixture) : IClassFixture<JwtGatewayFixture>
{
    [Fact]
    public async Task Subject_comes_from_the_validated_token_claim()
    {
        var subject = GatewayFixture.NewSubject();
        await fixture.Gateway.GrantAsync(subject, "marketing");

        Assert.True(await EmailTravels(JwtGatewayFixture.Token(subject)));
        // Another subject's token does not ride on the first subject's consent.
        Assert.False(await EmailTravels(JwtGatewayFixture.Token(GatewayFixture.NewSubject())));
    }

    public static TheoryData<string> BadTokens => new()
    {
        "wrong-key", "wrong-issuer", "wrong-audience", "expired", "garbage", "none",
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task An_invalid_token_is_401_and_nothing_is_forwarded(string kind)
    {
        var subject = GatewayFixture.NewSubject();
        var token = kind switch
        {
            "wrong-key" => JwtGatewayFixture.Token(subject, key: Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()),
            "wrong-issuer" => JwtGatewayFixture.Token(subject, issuer: "https://evil.test"),
            "wrong-audience" => JwtGatewayFixture.Token(subject, audience: "someone-else"),
            "expired" => JwtGatewayFixture.Token(subject, expires: DateTime.UtcNow.AddMinutes(-1)),
            "garbage" => "not.a.token",
            _ => null,
        };

        fixture.Upstream.Reset();
        using var request = Request(HttpMethod.Post, "/by-jwt/x", "marketing");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        request.Content = Json("""{"email":"ann@example.com"}""");
        using var response = await fixture.Gateway.Proxy.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("urn:consent-gateway:problem:token-invalid", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["type"]);
        Assert.Empty(fixture.Upstream.Received);
    }

    private async Task<bool> EmailTravels(string token)
    {
        fixture.Upstream.Reset();
        using var request = Request(HttpMethod.Post, "/by-jwt/x", "marketing");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Content = Json("""{"email":"ann@example.com","tier":"gold"}""");
        using var response = await fixture.Gateway.Proxy.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(fixture.Upstream.OnlyRequest().BodyText)!.AsObject().ContainsKey("email");
    }
}
