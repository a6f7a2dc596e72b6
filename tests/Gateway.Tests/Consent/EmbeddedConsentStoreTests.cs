using ConsentGateway.Consent;
using ConsentGateway.Observability;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ConsentGateway.Tests.Consent;

public sealed class EmbeddedConsentStoreTests
{
    private readonly ManualTimeProvider _time = new();
    private readonly ConsentInvalidation _hub = new();
    private readonly GatewayMetrics _metrics = new(Prometheus.Metrics.NewCustomRegistry());
    private readonly EmbeddedConsentStore _store;

    public EmbeddedConsentStoreTests()
    {
        _store = new EmbeddedConsentStore(_hub, _metrics, _time, NullLogger<EmbeddedConsentStore>.Instance);
    }

    [Fact]
    public async Task Writes_bump_the_version_and_read_back()
    {
        var expires = _time.GetUtcNow().AddDays(30);
        var r1 = await _store.SetPurposeAsync("alice", "marketing", ConsentStatus.Granted, expires, "cmp", default);
        var r2 = await _store.SetPurposeAsync("alice", "analytics", ConsentStatus.Denied, null, null, default);
        var r3 = await _store.SetGpcAsync("alice", true, default);

        Assert.Equal([1L, 2L, 3L], new[] { r1.Version, r2.Version, r3.Version });
        Assert.Equal(new ConsentReceipt("alice", "marketing", "granted", _time.GetUtcNow(), 1), r1);
        Assert.Equal("recorded", r3.Status);

        var read = await _store.ReadAsync("alice", default);
        Assert.True(read.Succeeded);
        Assert.Equal(3, read.Consent!.Version);
        Assert.True(read.Consent.Gpc);
        Assert.Equal(new PurposeConsent("marketing", ConsentStatus.Granted, expires, _time.GetUtcNow(), "cmp") { OccurredAt = _time.GetUtcNow() }, read.Consent.Find("marketing"));
        Assert.Equal(ConsentStatus.Denied, read.Consent.Find("analytics")!.Status);
    }

    [Fact]
    public async Task Clearing_a_purpose_removes_it_and_erase_forgets_the_subject()
    {
        await _store.SetPurposeAsync("alice", "marketing", ConsentStatus.Granted, null, null, default);
        var cleared = await _store.SetPurposeAsync("alice", "marketing", null, null, null, default);
        Assert.Equal("cleared", cleared.Status);
        Assert.Null((await _store.ReadAsync("alice", default)).Consent!.Find("marketing"));

        var erased = await _store.EraseAsync("alice", default);
        Assert.Equal(("*", "erased", 0L), (erased.Purpose, erased.Status, erased.Version));
        var read = await _store.ReadAsync("alice", default);
        Assert.True(read.Succeeded);
        Assert.Null(read.Consent);
    }

    [Fact]
    public async Task A_write_is_seen_by_the_next_lookup_on_the_same_instance()
    {
        var options = Options.Create(new ConsentOptions());
        using var cache = new ConsentCache(_store, _hub, options, _metrics, _time, NullLogger<ConsentCache>.Instance);
        await _store.SetPurposeAsync("alice", "marketing", ConsentStatus.Granted, null, null, default);
        await cache.LookupAsync("alice", default);
        Assert.Equal(ConsentSource.L1, (await cache.LookupAsync("alice", default)).Source);

        await _store.SetPurposeAsync("alice", "marketing", ConsentStatus.Denied, null, null, default);
        var after = await cache.LookupAsync("alice", default);

        Assert.Equal(ConsentSource.Store, after.Source);
        Assert.Equal(ConsentStatus.Denied, after.Consent!.Find("marketing")?.Status);
    }

    [Fact]
    public async Task Concurrent_writes_lose_no_version()
    {
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
            await _store.SetPurposeAsync("alice", "p" + (i % 7), ConsentStatus.Granted, null, null, default))));

        var read = await _store.ReadAsync("alice", default);
        Assert.Equal(200, read.Consent!.Version);
        Assert.Equal(7, read.Consent.Purposes.Length);
    }

    [Fact]
    public async Task Health_is_always_up_and_start_sets_the_gauge()
    {
        await _store.StartAsync(default);
        Assert.Equal(("embedded", true, true), (_store.Kind, _store.IsAvailable, _store.IsSubscribed));
        Assert.Equal(1, _metrics.StoreUp.Value);
    }
}
