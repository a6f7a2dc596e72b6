using System.Security.Cryptography;
using System.Text;
using ConsentGateway.Consent;
using ConsentGateway.Enforcement;
using ConsentGateway.Observability;
using ConsentGateway.Policy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConsentGateway.Benchmarks;

/// <summary>Pieces of the gateway as the middleware uses them, built from config/gateway.json.</summary>
internal static class Setup
{
    public const string ApiKey = "bench-caller-key-0123456789abcdef";
    public const string Subject = "3b1f0c52-7d7e-4f3a-9a66-0c1f2d3e4b5a";

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The shipped policy plus a caller "bench" whose key is <see cref="ApiKey"/>.</summary>
    public static CompiledPolicy Policy()
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ApiKey)));
        var config = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(RepoRoot(), "config", "gateway.json"))
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Policy:Callers:bench:KeySha256"] = hash,
                ["Policy:Callers:bench:Purposes:0"] = "marketing",
                ["Policy:Callers:bench:Purposes:1"] = "order-fulfilment",
            })
            .Build();
        return PolicyCompiler.Compile(config, out var errors)
            ?? throw new InvalidOperationException("policy: " + string.Join("; ", errors));
    }

    public static Pseudonymizer Pseudonymizer() => new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    /// <summary>A typical record: marketing granted (with expiry), analytics denied.</summary>
    public static SubjectConsent TypicalRecord() => new(7, false,
    [
        new PurposeConsent("marketing", ConsentStatus.Granted, DateTimeOffset.UtcNow.AddYears(1), DateTimeOffset.UtcNow, "web"),
        new PurposeConsent("analytics", ConsentStatus.Denied, null, DateTimeOffset.UtcNow, "app"),
    ]);

    public static MemoryCacheConsentCache LegacyCache(IConsentStore store, long sizeLimit = 100_000, TimeSpan? ttl = null) => new(
        store,
        new ConsentInvalidation(),
        Microsoft.Extensions.Options.Options.Create(new ConsentOptions { CacheSizeLimit = sizeLimit, CacheTtl = ttl ?? TimeSpan.FromSeconds(30) }),
        new GatewayMetrics(Prometheus.Metrics.NewCustomRegistry()),
        TimeProvider.System,
        NullLogger<MemoryCacheConsentCache>.Instance);

    public static ConsentCache Cache(IConsentStore store, long sizeLimit = 100_000, TimeSpan? ttl = null) => new(
        store,
        new ConsentInvalidation(),
        Microsoft.Extensions.Options.Options.Create(new ConsentOptions { CacheSizeLimit = sizeLimit, CacheTtl = ttl ?? TimeSpan.FromSeconds(30) }),
        new GatewayMetrics(Prometheus.Metrics.NewCustomRegistry()),
        TimeProvider.System,
        NullLogger<ConsentCache>.Instance);
}

/// <summary>Answers every read with the same record, synchronously.</summary>
internal sealed class FixedStore(SubjectConsent record) : IConsentStore
{
    public ValueTask<StoreRead> ReadAsync(string subject, CancellationToken cancellationToken) => new(new StoreRead(true, record));

    public ValueTask<ConsentReceipt> SetPurposeAsync(string subject, string purpose, ConsentStatus? status, DateTimeOffset? expiresAt, string? source, CancellationToken cancellationToken) => throw new NotSupportedException();

    public ValueTask<ConsentReceipt> SetGpcAsync(string subject, bool gpc, CancellationToken cancellationToken) => throw new NotSupportedException();

    public ValueTask<ConsentReceipt> EraseAsync(string subject, CancellationToken cancellationToken) => throw new NotSupportedException();
}
