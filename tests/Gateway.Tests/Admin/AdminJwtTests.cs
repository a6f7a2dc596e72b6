using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ConsentGateway.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ConsentGateway.Tests.Admin;

/// <summary>A gateway whose admin listener also accepts JWT bearer tokens (Admin:Jwt), with a required scope.</summary>
public sealed class AdminJwtFixture : GatewayFixture
{
    public const string Issuer = "https://admin-idp.test";
    public const string Audience = "consent-gateway-admin";
    public const string Scope = "consent:admin";
    public static readonly byte[] Key = Enumerable.Range(50, 48).Select(i => (byte)i).ToArray();

    protected override void Configure(JsonObject config) =>
        config["Admin"] = new JsonObject
        {
            ["Jwt"] = new JsonObject
            {
                ["Issuer"] = Issuer,
                ["Audience"] = Audience,
                ["SigningKey"] = Convert.ToBase64String(Key),
                ["RequiredScope"] = Scope,
            },
        };

    public static string Token(
        string issuer = Issuer,
        string audience = Audience,
        byte[]? key = null,
        DateTime? expires = null,
        string algorithm = SecurityAlgorithms.HmacSha256,
        string? scope = "openid " + Scope) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity(scope is null ? [new Claim("sub", "ops")] : [new Claim("sub", "ops"), new Claim("scope", scope)]),
            NotBefore = DateTime.UtcNow.AddMinutes(-5),
            IssuedAt = DateTime.UtcNow.AddMinutes(-5),
            Expires = expires ?? DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? Key), algorithm),
        });

    public static string Token(SigningCredentials credentials) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Subject = new ClaimsIdentity([new Claim("sub", "ops"), new Claim("scope", Scope)]),
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = credentials,
        });
}

/// <summary>Admin tokens verified with an EC P-256 public key read from a PEM file (<c>Admin:Jwt:PublicKeyPemFile</c>).</summary>
public sealed class EcAdminJwtFixture : GatewayFixture
{
    public static readonly ECDsa Ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private readonly string _pemFile = Path.Combine(Path.GetTempPath(), $"admin-jwt-{Guid.NewGuid():N}.pem");

    public override async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_pemFile, Ec.ExportSubjectPublicKeyInfoPem());
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        File.Delete(_pemFile);
    }

    protected override void Configure(JsonObject config) =>
        config["Admin"] = new JsonObject
        {
            ["Jwt"] = new JsonObject
            {
                ["Issuer"] = AdminJwtFixture.Issuer,
                ["Audience"] = AdminJwtFixture.Audience,
                ["PublicKeyPemFile"] = _pemFile,
                ["RequiredScope"] = AdminJwtFixture.Scope,
            },
        };
}

public sealed class AdminJwtTests(AdminJwtFixture fixture) : IClassFixture<AdminJwtFixture>
{
    [Fact]
    public async Task A_valid_token_authorises_reads_writes_and_event_ingestion()
    {
        var subject = GatewayFixture.NewSubject();
        using var client = Client(AdminJwtFixture.Token());

        using (var put = await client.PutAsync($"v1/subjects/{subject}/consents/marketing", GatewayHost.Json("""{"status":"granted"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var batch = $$"""[{"eventId":"{{Guid.NewGuid():N}}","subject":"{{subject}}","purpose":"marketing","status":"denied","occurredAt":"{{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffffffZ}}"}]""";
        using (var post = await client.PostAsync("v1/consent-events", GatewayHost.Json(batch)))
        {
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        }

        var read = JsonNode.Parse(await client.GetStringAsync($"v1/subjects/{subject}/consents"))!;
        Assert.Equal(2L, (long?)read["version"]);
    }

    [Fact]
    public async Task The_admin_key_still_authorises_alongside_jwt()
    {
        using var response = await fixture.Gateway.Admin.GetAsync($"v1/subjects/{GatewayFixture.NewSubject()}/consents");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string> BadTokens => new()
    {
        "wrong-key", "wrong-issuer", "wrong-audience", "wrong-alg", "expired", "expired-2s-ago", "no-scope", "other-scope", "garbage", "none",
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task An_invalid_token_is_a_401_problem(string kind)
    {
        var token = kind switch
        {
            "wrong-key" => AdminJwtFixture.Token(key: Enumerable.Range(0, 48).Select(i => (byte)i).ToArray()),
            "wrong-issuer" => AdminJwtFixture.Token(issuer: "https://evil.test"),
            "wrong-audience" => AdminJwtFixture.Token(audience: "someone-else"),
            "wrong-alg" => AdminJwtFixture.Token(algorithm: SecurityAlgorithms.HmacSha384),
            "expired" => AdminJwtFixture.Token(expires: DateTime.UtcNow.AddMinutes(-1)),
            "expired-2s-ago" => AdminJwtFixture.Token(expires: DateTime.UtcNow.AddSeconds(-2)), // zero clock skew
            "no-scope" => AdminJwtFixture.Token(scope: null),
            "other-scope" => AdminJwtFixture.Token(scope: "consent:read consent:adminx"),
            "garbage" => "not.a.token",
            _ => null,
        };

        using var client = Client(token);
        using var response = await client.GetAsync($"v1/subjects/{GatewayFixture.NewSubject()}/consents");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("urn:consent-gateway:problem:admin-unauthorized", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["type"]);
    }

    [Fact]
    public async Task A_subject_token_for_the_proxy_is_not_an_admin_token()
    {
        // Same key, the proxy's issuer/audience: the distinct scheme keeps the two apart.
        using var client = Client(AdminJwtFixture.Token(issuer: "https://idp.test", audience: "consent-gateway"));
        using var response = await client.GetAsync($"v1/subjects/{GatewayFixture.NewSubject()}/consents");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private HttpClient Client(string? token)
    {
        var client = new HttpClient { BaseAddress = fixture.Gateway.AdminAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }
}

public sealed class EcAdminJwtTests(EcAdminJwtFixture fixture) : IClassFixture<EcAdminJwtFixture>
{
    [Fact]
    public async Task An_ES256_token_authorises()
    {
        using var response = await Get(AdminJwtFixture.Token(new SigningCredentials(new ECDsaSecurityKey(EcAdminJwtFixture.Ec), SecurityAlgorithms.EcdsaSha256)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_token_from_another_ec_key_or_an_hmac_token_is_401()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using (var response = await Get(AdminJwtFixture.Token(new SigningCredentials(new ECDsaSecurityKey(other), SecurityAlgorithms.EcdsaSha256))))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        // Algorithm confusion: HS256 keyed with the public key, which anyone may hold.
        var publicPem = System.Text.Encoding.ASCII.GetBytes(EcAdminJwtFixture.Ec.ExportSubjectPublicKeyInfoPem());
        using (var response = await Get(AdminJwtFixture.Token(key: publicPem)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    private async Task<HttpResponseMessage> Get(string token)
    {
        using var client = new HttpClient { BaseAddress = fixture.Gateway.AdminAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.GetAsync($"v1/subjects/{GatewayFixture.NewSubject()}/consents");
    }
}

public sealed class AdminJwtConfigurationTests
{
    [Theory]
    [InlineData("Issuer", null, "Admin:Jwt:Issuer")]
    [InlineData("SigningKey", "c2hvcnQ=", "Admin:Jwt:SigningKey")]
    [InlineData("SigningKey", "not base64!", "Admin:Jwt:SigningKey")]
    public async Task A_bad_admin_jwt_section_stops_start_up_naming_the_key(string member, string? value, string named)
    {
        await using var upstream = await RecordingUpstream.StartAsync();
        var config = TestConfig.Create(upstream.BaseAddress);
        var jwt = new JsonObject { ["Issuer"] = "i", ["Audience"] = "a", ["SigningKey"] = Convert.ToBase64String(AdminJwtFixture.Key) };
        jwt[member] = value;
        config["Admin"] = new JsonObject { ["Jwt"] = jwt };

        var ex = await Assert.ThrowsAnyAsync<Exception>(async () => await (await GatewayHost.StartAsync(config)).DisposeAsync());
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bad-pem", "Admin:Jwt:PublicKeyPem")]
    [InlineData("both", "Admin:Jwt:SigningKey and Admin:Jwt:PublicKeyPem")]
    [InlineData("rs256-with-ec-key", "Admin:Jwt:Algorithms")]
    [InlineData("es384-with-p256-key", "Admin:Jwt:Algorithms")]
    public async Task A_bad_public_key_stops_start_up_naming_the_key(string kind, string named)
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var jwt = new JsonObject { ["Issuer"] = "i", ["Audience"] = "a", ["PublicKeyPem"] = ec.ExportSubjectPublicKeyInfoPem() };
        switch (kind)
        {
            case "bad-pem":
                jwt["PublicKeyPem"] = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA";
                break;
            case "both":
                jwt["SigningKey"] = Convert.ToBase64String(AdminJwtFixture.Key);
                break;
            case "rs256-with-ec-key":
                jwt["Algorithms"] = new JsonArray("RS256");
                break;
            case "es384-with-p256-key":
                jwt["Algorithms"] = new JsonArray("ES384");
                break;
        }

        await using var upstream = await RecordingUpstream.StartAsync();
        var config = TestConfig.Create(upstream.BaseAddress);
        config["Admin"] = new JsonObject { ["Jwt"] = jwt };

        var ex = await Assert.ThrowsAnyAsync<Exception>(async () => await (await GatewayHost.StartAsync(config)).DisposeAsync());
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }
}
