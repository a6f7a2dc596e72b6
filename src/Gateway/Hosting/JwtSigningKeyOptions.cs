using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.Tokens;

namespace ConsentGateway.Hosting;

/// <summary>
/// The key and pinned algorithms of a JWT section (<c>Jwt</c>, <c>Admin:Jwt</c>): exactly one of
/// <c>SigningKey</c> (base64 HMAC secret) or <c>PublicKeyPem</c>/<c>PublicKeyPemFile</c> (RSA or EC
/// SubjectPublicKeyInfo). Keys are static: no discovery or JWKS fetching, so a validation never
/// waits on, or can be steered by, the network. Every failure names the config key and never echoes
/// key material.
/// </summary>
internal sealed class JwtSigningKeyOptions
{
    private static readonly string[] Hmac = [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512];

    private static readonly string[] Rsa =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
    ];

    private JwtSigningKeyOptions(SecurityKey key, string[] algorithms)
    {
        Key = key;
        Algorithms = algorithms;
    }

    public SecurityKey Key { get; }

    /// <summary>Pinned <c>alg</c> values, all of the key's family, so a token can never pick its own (e.g. HS256 over an RSA public key).</summary>
    public IReadOnlyList<string> Algorithms { get; }

    public static JwtSigningKeyOptions Read(IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var path = section.Path;
        var secret = Value(section, "SigningKey");
        var pem = Value(section, "PublicKeyPem");
        var pemFile = Value(section, "PublicKeyPemFile");
        if (pem is not null && pemFile is not null)
        {
            throw new InvalidOperationException($"{path}:PublicKeyPem and {path}:PublicKeyPemFile are mutually exclusive; configure one.");
        }

        if (secret is not null && (pem ?? pemFile) is not null)
        {
            throw new InvalidOperationException(
                $"{path}:SigningKey and {path}:{(pem is null ? "PublicKeyPemFile" : "PublicKeyPem")} are mutually exclusive; configure one.");
        }

        if (secret is not null)
        {
            return Symmetric(section, secret);
        }

        if (pemFile is not null)
        {
            try
            {
                pem = File.ReadAllText(pemFile);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new InvalidOperationException($"{path}:PublicKeyPemFile could not be read.", ex);
            }

            return Asymmetric(section, pem, "PublicKeyPemFile");
        }

        return pem is not null
            ? Asymmetric(section, pem, "PublicKeyPem")
            : throw new InvalidOperationException(
                $"{path}:SigningKey (base64, at least 32 bytes) or {path}:PublicKeyPem (or {path}:PublicKeyPemFile) is required when the {path} section is present.");
    }

    private static JwtSigningKeyOptions Symmetric(IConfigurationSection section, string secret)
    {
        byte[] keyBytes;
        try
        {
            keyBytes = Convert.FromBase64String(secret);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{section.Path}:SigningKey is not valid base64.");
        }

        if (keyBytes.Length < 32)
        {
            throw new InvalidOperationException($"{section.Path}:SigningKey must be at least 32 bytes.");
        }

        return new(new SymmetricSecurityKey(keyBytes), PinnedAlgorithms(section, Hmac, Hmac[0], "HS256, HS384 or HS512 (the key is symmetric)"));
    }

    private static JwtSigningKeyOptions Asymmetric(IConfigurationSection section, string pem, string name)
    {
        var key = $"{section.Path}:{name}";
        PublicKey publicKey;
        try
        {
            // SubjectPublicKeyInfo only: a private key or a certificate here is a mistake worth stopping for.
            if (!PemEncoding.TryFind(pem, out var fields) || !pem.AsSpan()[fields.Label].SequenceEqual("PUBLIC KEY"))
            {
                throw new InvalidOperationException($"{key} must hold a PEM public key (a \"PUBLIC KEY\" block, SubjectPublicKeyInfo).");
            }

            publicKey = PublicKey.CreateFromSubjectPublicKeyInfo(Convert.FromBase64String(pem[fields.Base64Data]), out _);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException($"{key} is not a valid RSA or EC public key.", ex);
        }

        using var rsa = publicKey.GetRSAPublicKey();
        if (rsa is not null)
        {
            if (rsa.KeySize < 2048)
            {
                throw new InvalidOperationException($"{key} is an RSA key of {rsa.KeySize} bits; at least 2048 are required.");
            }

            // The parameters outlive this method; the RSA object does not need to.
            var rsaKey = new RsaSecurityKey(rsa.ExportParameters(false));
            return new(rsaKey, PinnedAlgorithms(section, Rsa, Rsa[0], "RS256, RS384, RS512, PS256, PS384 or PS512 (the key is RSA)"));
        }

        using var ecdsa = publicKey.GetECDsaPublicKey()
            ?? throw new InvalidOperationException($"{key} is not a valid RSA or EC public key.");
        var parameters = ecdsa.ExportParameters(false);
        var (algorithm, curve) = parameters.Curve.Oid.Value switch
        {
            "1.2.840.10045.3.1.7" => (SecurityAlgorithms.EcdsaSha256, "P-256"),
            "1.3.132.0.34" => (SecurityAlgorithms.EcdsaSha384, "P-384"),
            "1.3.132.0.35" => (SecurityAlgorithms.EcdsaSha512, "P-521"),
            _ => throw new InvalidOperationException($"{key} is an EC key on an unsupported curve; P-256, P-384 or P-521 are accepted."),
        };

        // The ECDsaSecurityKey keeps its ECDsa for every validation, so it gets its own instance.
        var ecKey = new ECDsaSecurityKey(ECDsa.Create(parameters));
        return new(ecKey, PinnedAlgorithms(section, [algorithm], algorithm, $"{algorithm} (the key is EC {curve})"));
    }

    private static string[] PinnedAlgorithms(IConfigurationSection section, string[] allowed, string fallback, string rule)
    {
        var algorithms = section.GetSection("Algorithms").Get<string[]>() is { Length: > 0 } configured ? configured : [fallback];
        foreach (var algorithm in algorithms)
        {
            if (!allowed.Contains(algorithm, StringComparer.Ordinal))
            {
                throw new InvalidOperationException($"{section.Path}:Algorithms may only name {rule}.");
            }
        }

        return algorithms;
    }

    private static string? Value(IConfigurationSection section, string name) =>
        string.IsNullOrWhiteSpace(section[name]) ? null : section[name];
}
