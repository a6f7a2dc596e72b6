using Microsoft.Extensions.Options;

namespace ConsentGateway.Hosting;

/// <summary>The "Gateway" configuration section: listeners, secrets and limits.</summary>
internal sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Where proxied routes are served (and nothing else).</summary>
    public string ProxyUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Where metrics, health and the consent API are served (and no proxied route).</summary>
    public string AdminUrl { get; set; } = "http://127.0.0.1:8081";

    /// <summary>Base64 HMAC key for the <c>hash</c> action (≥ 32 bytes). Set it through the environment in production.</summary>
    public string? HashKey { get; set; }

    /// <summary>Lower-case hex SHA-256 of each admin API key.</summary>
    public List<string> AdminKeys { get; set; } = [];

    public int MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    public int MaxResponseBodyBytes { get; set; } = 8 * 1024 * 1024;

    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>
    /// How long a caller's idle keep-alive connection stays open (Kestrel's own default is 130 s). Long,
    /// as in other proxies: a connection closed while idle is opened again the moment traffic rises,
    /// so closing them turns every burst into a burst of connection set-ups as well.
    /// </summary>
    public TimeSpan ClientKeepAliveTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an idle connection to an upstream stays pooled (SocketsHttpHandler's own default is 1 min); long for the same reason.</summary>
    public TimeSpan UpstreamIdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    public byte[] HashKeyBytes()
    {
        return Convert.FromBase64String(HashKey ?? string.Empty);
    }
}

internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var errors = new List<string>();
        if (!Listeners.TryParseEndpoint(options.ProxyUrl, out _))
        {
            errors.Add($"Gateway:ProxyUrl '{options.ProxyUrl}' is not an http://host:port URL.");
        }

        if (!Listeners.TryParseEndpoint(options.AdminUrl, out _))
        {
            errors.Add($"Gateway:AdminUrl '{options.AdminUrl}' is not an http://host:port URL.");
        }

        if (Listeners.TryParseEndpoint(options.ProxyUrl, out var proxy) && Listeners.TryParseEndpoint(options.AdminUrl, out var admin)
            && proxy.Port == admin.Port && proxy.Port != 0)
        {
            errors.Add("Gateway:AdminUrl must use another port than Gateway:ProxyUrl: the admin API never shares the proxy listener.");
        }

        try
        {
            if (options.HashKeyBytes().Length < 32)
            {
                errors.Add("Gateway:HashKey must be base64 of at least 32 random bytes.");
            }
        }
        catch (FormatException)
        {
            errors.Add("Gateway:HashKey is not valid base64.");
        }

        for (var i = 0; i < options.AdminKeys.Count; i++)
        {
            if (!Sha256Hex.IsValid(options.AdminKeys[i]))
            {
                errors.Add($"Gateway:AdminKeys:{i} must be the lower-case hex SHA-256 of an admin key (64 characters).");
            }
        }

        if (options.MaxRequestBodyBytes is < 1 or > 256 * 1024 * 1024)
        {
            errors.Add("Gateway:MaxRequestBodyBytes must be between 1 and 268435456.");
        }

        if (options.MaxResponseBodyBytes is < 1 or > 256 * 1024 * 1024)
        {
            errors.Add("Gateway:MaxResponseBodyBytes must be between 1 and 268435456.");
        }

        if (options.MaxJsonDepth is < 1 or > 256)
        {
            errors.Add("Gateway:MaxJsonDepth must be between 1 and 256.");
        }

        if (options.ClientKeepAliveTimeout < TimeSpan.FromSeconds(1) || options.ClientKeepAliveTimeout > TimeSpan.FromHours(24))
        {
            errors.Add("Gateway:ClientKeepAliveTimeout must be between 00:00:01 and 1.00:00:00.");
        }

        if (options.UpstreamIdleTimeout < TimeSpan.FromSeconds(1) || options.UpstreamIdleTimeout > TimeSpan.FromHours(24))
        {
            errors.Add("Gateway:UpstreamIdleTimeout must be between 00:00:01 and 1.00:00:00.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
