using ConsentGateway.Consent;
using ConsentGateway.Observability;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Prometheus;

namespace ConsentGateway.Tests.Consent;

internal enum StoreMode
{
    Pass,
    Fail,
    Throw,
    Hang,
}

/// <summary>
/// Wraps a store, counts reads, and can fail, throw, hang, or hold every read at a gate after it
/// has read the inner store (so a test can change the data while the old answer is in flight).
/// </summary>
internal sealed class CountingConsentStore(IConsentStore inner) : IConsentStore
{
    private readonly TaskCompletionSource _hang = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reads;

    public int Reads => Volatile.Read(ref _reads);

    public StoreMode Mode { get; set; }

    public TaskCompletionSource? Gate { get; set; }

    /// <summary>Signalled when a read has reached the gate.</summary>
    public TaskCompletionSource AtGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseHung() => _hang.TrySetResult();

    public async ValueTask<StoreRead> ReadAsync(string subject, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        switch (Mode)
        {
            case StoreMode.Fail:
                return StoreRead.Failed;
            case StoreMode.Throw:
                throw new InvalidOperationException("store exploded");
            case StoreMode.Hang:
                await _hang.Task; // deliberately ignores cancellation: the worst kind of store
                return StoreRead.Failed;
        }

        var read = await inner.ReadAsync(subject, cancellationToken);
        if (Gate is { } gate)
        {
            AtGate.TrySetResult();
            await gate.Task;
        }

        return read;
    }

    public ValueTask<ConsentReceipt> SetPurposeAsync(string subject, string purpose, ConsentStatus? status, DateTimeOffset? expiresAt, string? source, CancellationToken cancellationToken) =>
        inner.SetPurposeAsync(subject, purpose, status, expiresAt, source, cancellationToken);

    public ValueTask<ConsentReceipt> SetGpcAsync(string subject, bool gpc, CancellationToken cancellationToken) =>
        inner.SetGpcAsync(subject, gpc, cancellationToken);

    public ValueTask<ConsentReceipt> EraseAsync(string subject, CancellationToken cancellationToken) =>
        inner.EraseAsync(subject, cancellationToken);
}

/// <summary>
/// A cache under test over an embedded store. The store has its own invalidation hub, so tests can
/// change data behind the cache's back; invalidations of the cache are explicit.
/// </summary>
internal sealed class CacheHarness : IDisposable
{
    public CacheHarness(TimeProvider? time = null, Action<ConsentOptions>? configure = null, PurposeNameTable? names = null)
    {
        Time = time ?? new ManualTimeProvider();
        Options = new ConsentOptions();
        configure?.Invoke(Options);
        Metrics = new GatewayMetrics(Prometheus.Metrics.NewCustomRegistry());
        Data = new EmbeddedConsentStore(new ConsentInvalidation(), Metrics, Time, NullLogger<EmbeddedConsentStore>.Instance);
        Store = new CountingConsentStore(Data);
        Hub = new ConsentInvalidation();
        Cache = new ConsentCache(Store, Hub, Microsoft.Extensions.Options.Options.Create(Options), Metrics, Time, NullLogger<ConsentCache>.Instance, names);
    }

    public TimeProvider Time { get; }

    public ManualTimeProvider Clock => (ManualTimeProvider)Time;

    public ConsentOptions Options { get; }

    public GatewayMetrics Metrics { get; }

    public EmbeddedConsentStore Data { get; }

    public CountingConsentStore Store { get; }

    public ConsentInvalidation Hub { get; }

    public ConsentCache Cache { get; }

    public double Lookups(string tier, string result) => Metrics.ConsentLookups.WithLabels(tier, result).Value;

    public ValueTask<ConsentLookupResult> LookupAsync(string subject) => Cache.LookupAsync(subject, CancellationToken.None);

    public Task GrantAsync(string subject, string purpose = "marketing", DateTimeOffset? expiresAt = null) =>
        Data.SetPurposeAsync(subject, purpose, ConsentStatus.Granted, expiresAt, "test", CancellationToken.None).AsTask();

    public Task DenyAsync(string subject, string purpose = "marketing") =>
        Data.SetPurposeAsync(subject, purpose, ConsentStatus.Denied, null, "test", CancellationToken.None).AsTask();

    public void Dispose()
    {
        Store.ReleaseHung();
        Store.Gate?.TrySetResult();
        Cache.Dispose();
    }
}
