using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
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
        ConfigureRoute(config);
        config["Jwt"] = new JsonObject { ["Issuer"] = Issuer, ["Audience"] = Audience, ["SigningKey"] = Convert.ToBase64String(Key) };
    }

    internal static void ConfigureRoute(JsonObject config)
    {
        var route = config["Policy"]!["Routes"]!["customers"]!.DeepClone().AsObject();
        route["Subject"] = new JsonObject { ["From"] = "jwt", ["Name"] = "sub" };
        config["Policy"]!["Routes"]!["by-jwt"] = route;
        config["ReverseProxy"]!["Routes"]!["by-jwt"] = new JsonObject { ["ClusterId"] = "upstream", ["Match"] = new JsonObject { ["Path"] = "/by-jwt/{**rest}" } };
    }

    public static string Token(string subject, string issuer = Issuer, string audience = Audience, byte[]? key = null, DateTime? expires = null, string algorithm = SecurityAlgorithms.HmacSha256) =>
        Token(subject, new SigningCredentials(new SymmetricSecurityKey(key ?? Key), algorithm), issuer, audience, expires);

    public static string Token(string subject, SigningCredentials credentials, string issuer = Issuer, string audience = Audience, DateTime? expires = null) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            NotBefore = DateTime.UtcNow.AddMinutes(-5),
            Expires = expires ?? DateTime.UtcNow.AddMinutes(5),
            IssuedAt = DateTime.UtcNow.AddMinutes(-5),
            SigningCredentials = credentials,
        });
}

/// <summary>The same "by-jwt" route, its tokens verified with an RSA public key (PEM) as an identity provider would sign them.</summary>
public sealed class RsaJwtGatewayFixture : GatewayFixture
{
    public static readonly RSA Rsa = RSA.Create(2048);

    protected override void Configure(JsonObject config)
    {
        JwtGatewayFixture.ConfigureRoute(config);
        config["Jwt"] = new JsonObject
        {
            ["Issuer"] = JwtGatewayFixture.Issuer,
            ["Audience"] = JwtGatewayFixture.Audience,
            ["PublicKeyPem"] = Rsa.ExportSubjectPublicKeyInfoPem(),
        };
    }

    public static string Token(string subject, RSA? key = null, string algorithm = SecurityAlgorithms.RsaSha256) =>
        JwtGatewayFixture.Token(subject, new SigningCredentials(new RsaSecurityKey(key ?? Rsa), algorithm));
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

public sealed class RsaJwtSubjectTests(RsaJwtGatewayFixture fixture) : IClassFixture<RsaJwtGatewayFixture>
{
    [Fact]
    public async Task An_RS256_token_resolves_the_subject()
    {
        var subject = GatewayFixture.NewSubject();
        await fixture.Gateway.GrantAsync(subject, "marketing");

        fixture.Upstream.Reset();
        using var response = await Send(RsaJwtGatewayFixture.Token(subject));
        response.EnsureSuccessStatusCode();
        Assert.True(JsonNode.Parse(fixture.Upstream.OnlyRequest().BodyText)!.AsObject().ContainsKey("email"));
    }

    public static TheoryData<string> BadTokens => new() { "other-rsa-key", "hs256-over-public-key", "ps256-not-pinned" };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_token_the_public_key_does_not_verify_is_401(string kind)
    {
        var subject = GatewayFixture.NewSubject();
        await fixture.Gateway.GrantAsync(subject, "marketing");
        using var other = RSA.Create(2048);
        var token = kind switch
        {
            "other-rsa-key" => RsaJwtGatewayFixture.Token(subject, other),
            // Algorithm confusion: the public key, which anyone may hold, used as an HMAC secret.
            "hs256-over-public-key" => JwtGatewayFixture.Token(subject, key: System.Text.Encoding.ASCII.GetBytes(RsaJwtGatewayFixture.Rsa.ExportSubjectPublicKeyInfoPem())),
            _ => RsaJwtGatewayFixture.Token(subject, algorithm: SecurityAlgorithms.RsaSsaPssSha256),
        };

        fixture.Upstream.Reset();
        using var response = await Send(token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("urn:consent-gateway:problem:token-invalid", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["type"]);
        Assert.Empty(fixture.Upstream.Received);
    }

    private async Task<HttpResponseMessage> Send(string token)
    {
        using var request = Request(HttpMethod.Post, "/by-jwt/x", "marketing");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Content = Json("""{"email":"ann@example.com","tier":"gold"}""");
        return await fixture.Gateway.Proxy.SendAsync(request);
    }
}

public sealed class JwtConfigurationTests
{
    public static TheoryData<string, string> BadKeys => new()
    {
        { "garbage-pem", "Jwt:PublicKeyPem" },
        { "private-key", "Jwt:PublicKeyPem" },
        { "rsa-1024", "Jwt:PublicKeyPem" },
        { "rs256-with-ec-key", "Jwt:Algorithms" },
        { "hs256-with-rsa-key", "Jwt:Algorithms" },
        { "both", "Jwt:SigningKey and Jwt:PublicKeyPem" },
        { "missing-file", "Jwt:PublicKeyPemFile" },
        { "neither", "Jwt:SigningKey" },
    };

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task A_bad_key_stops_start_up_naming_the_key(string kind, string named)
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(kind == "rsa-1024" ? 1024 : 2048);
        var jwt = new JsonObject { ["Issuer"] = JwtGatewayFixture.Issuer, ["Audience"] = JwtGatewayFixture.Audience };
        switch (kind)
        {
            case "garbage-pem":
                jwt["PublicKeyPem"] = "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----";
                break;
            case "private-key":
                jwt["PublicKeyPem"] = rsa.ExportPkcs8PrivateKeyPem();
                break;
            case "rs256-with-ec-key":
                jwt["PublicKeyPem"] = ec.ExportSubjectPublicKeyInfoPem();
                jwt["Algorithms"] = new JsonArray("RS256");
                break;
            case "hs256-with-rsa-key":
                jwt["PublicKeyPem"] = rsa.ExportSubjectPublicKeyInfoPem();
                jwt["Algorithms"] = new JsonArray("HS256");
                break;
            case "both":
                jwt["PublicKeyPem"] = rsa.ExportSubjectPublicKeyInfoPem();
                jwt["SigningKey"] = Convert.ToBase64String(JwtGatewayFixture.Key);
                break;
            case "missing-file":
                jwt["PublicKeyPemFile"] = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "jwt.pem");
                break;
            case "rsa-1024":
                jwt["PublicKeyPem"] = rsa.ExportSubjectPublicKeyInfoPem();
                break;
        }

        await using var upstream = await RecordingUpstream.StartAsync();
        var config = TestConfig.Create(upstream.BaseAddress);
        config["Jwt"] = jwt;

        var ex = await Assert.ThrowsAnyAsync<Exception>(async () => await (await GatewayHost.StartAsync(config)).DisposeAsync());
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("-----", ex.Message, StringComparison.Ordinal); // no key material in the message
    }
}
