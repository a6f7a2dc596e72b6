using System.Text;
using ConsentGateway.Consent;
using ConsentGateway.Observability;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace ConsentGateway.Tests.Consent;

/// <summary>The stores' event semantics below the API: dedupe TTL, ordering, GPC, the invalidation, the layout.</summary>
public sealed class ConsentEventStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Embedded_forgets_an_event_id_after_the_ttl_and_the_ordering_rule_still_protects_the_state()
    {
        var time = new ManualTimeProvider();
        var hub = new ConsentInvalidation();
        var options = Microsoft.Extensions.Options.Options.Create(new ConsentOptions { EventIdTtl = TimeSpan.FromHours(1) });
        var store = new EmbeddedConsentStore(hub, new GatewayMetrics(Prometheus.Metrics.NewCustomRegistry()), time, NullLogger<EmbeddedConsentStore>.Instance, options);

        var older = Purpose("e1", ConsentStatus.Granted, T0);
        var newer = Purpose("e2", ConsentStatus.Denied, T0.AddSeconds(1));
        Assert.Equal(ConsentEventOutcome.Applied, (await store.ApplyEventAsync(older, default)).Outcome);
        Assert.Equal(ConsentEventOutcome.Applied, (await store.ApplyEventAsync(newer, default)).Outcome);
        Assert.Equal(ConsentEventOutcome.Duplicate, (await store.ApplyEventAsync(older, default)).Outcome);

        time.Advance(TimeSpan.FromHours(2));
        var replay = await store.ApplyEventAsync(older, default);
        Assert.Equal((ConsentEventOutcome.Superseded, 2L), (replay.Outcome, replay.Version));

        var read = (await store.ReadAsync("alice", default)).Consent!;
        Assert.Equal((2L, ConsentStatus.Denied, T0.AddSeconds(1)), (read.Version, read.Find("marketing")!.Status, read.Find("marketing")!.OccurredAt));
    }

    [Fact]
    public async Task Embedded_gpc_events_are_ordered_and_an_applied_event_invalidates_the_subject()
    {
        var hub = new ConsentInvalidation();
        var store = new EmbeddedConsentStore(hub, new GatewayMetrics(Prometheus.Metrics.NewCustomRegistry()), new ManualTimeProvider(), NullLogger<EmbeddedConsentStore>.Instance);
        await store.SetPurposeAsync("alice", "marketing", ConsentStatus.Granted, null, null, default);

        var on = new ConsentEvent("g1", "alice", null, ConsentStatus.Denied, false, null, true, T0.AddSeconds(1), null);
        var off = new ConsentEvent("g2", "alice", null, ConsentStatus.Denied, false, null, false, T0, null);
        Assert.Equal(ConsentEventOutcome.Applied, (await store.ApplyEventAsync(on, default)).Outcome);
        Assert.Equal(ConsentEventOutcome.Superseded, (await store.ApplyEventAsync(off, default)).Outcome);

        var read = (await store.ReadAsync("alice", default)).Consent!;
        Assert.True(read.Gpc);
        Assert.Equal(T0.AddSeconds(1), read.GpcOccurredAt);
        Assert.Equal(ConsentStatus.Granted, read.Find("marketing")!.Status); // other purposes untouched
    }

    [Fact]
    public async Task Redis_event_script_follows_the_layout_and_counts_versions_like_the_embedded_store()
    {
        await using var h = await RedisHarness.StartAsync();
        var granted = await h.Store.ApplyEventAsync(Purpose("e1", ConsentStatus.Granted, T0), default);
        var again = await h.Store.ApplyEventAsync(Purpose("e1", ConsentStatus.Denied, T0.AddSeconds(5)), default);
        var older = await h.Store.ApplyEventAsync(Purpose("e0", ConsentStatus.Denied, T0.AddTicks(-1)), default);
        var gpc = await h.Store.ApplyEventAsync(new ConsentEvent("g1", "alice", null, ConsentStatus.Denied, false, null, true, T0, null), default);

        Assert.Equal((ConsentEventOutcome.Applied, 1L), (granted.Outcome, granted.Version));
        Assert.Equal((ConsentEventOutcome.Duplicate, 0L), (again.Outcome, again.Version));
        Assert.Equal((ConsentEventOutcome.Superseded, 1L), (older.Outcome, older.Version));
        Assert.Equal((ConsentEventOutcome.Applied, 2L), (gpc.Outcome, gpc.Version));

        var hash = (await h.Raw.HashGetAllAsync("consent:alice")).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        Assert.Equal(["gpc", "gpcAt", "p:marketing", "v"], hash.Keys.Order());
        Assert.Equal(("1", "2026-05-01T10:00:00Z"), (hash["gpc"], hash["gpcAt"]));
        Assert.Contains("\"occurredAt\":\"2026-05-01T10:00:00Z\"", hash["p:marketing"], StringComparison.Ordinal);
        Assert.Equal(["consent-event:e0", "consent-event:e1", "consent-event:g1"], (await EventKeys(h)).Order());

        var read = (await h.Store.ReadAsync("alice", default)).Consent!;
        Assert.Equal((T0, T0), (read.Find("marketing")!.OccurredAt, read.GpcOccurredAt));

        // An admin GPC write carries no event time: it drops gpcAt, so the next GPC event applies.
        await h.Store.SetGpcAsync("alice", false, default);
        Assert.False(await h.Raw.HashExistsAsync("consent:alice", "gpcAt"));
    }

    [Fact]
    public void The_order_key_sorts_like_time_at_every_precision()
    {
        var a = ConsentEvent.OrderKey(T0);
        var b = ConsentEvent.OrderKey(T0.AddTicks(1));
        var c = ConsentEvent.OrderKey(new DateTimeOffset(2026, 5, 1, 12, 0, 0, 1, TimeSpan.FromHours(2))); // 10:00:00.001Z
        Assert.Equal(21, a.Length);
        Assert.True(string.CompareOrdinal(a, b) < 0 && string.CompareOrdinal(b, c) < 0);
        Assert.Equal("202605011000000000000", a);
        Assert.True(RedisConsentFormat.TryParsePurpose("m", Encoding.UTF8.GetBytes("""{"status":"granted","occurredAt":{"odd":1}}"""), out var p));
        Assert.Null(p.OccurredAt); // an unreadable occurredAt is unknown, never a denial
    }

    private static ConsentEvent Purpose(string id, ConsentStatus status, DateTimeOffset occurredAt) =>
        new(id, "alice", "marketing", status, false, null, false, occurredAt, "cmp");

    private static async Task<string[]> EventKeys(RedisHarness h)
    {
        var keys = new List<string>();
        await foreach (var key in h.Raw.Multiplexer.GetServers()[0].KeysAsync(pattern: "consent-event:*"))
        {
            keys.Add((string)key!);
        }

        return [.. keys];
    }
}
