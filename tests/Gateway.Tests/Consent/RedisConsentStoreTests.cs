using System.Diagnostics;
using System.Text.Json;
using ConsentGateway.Consent;
using StackExchange.Redis;

namespace ConsentGateway.Tests.Consent;

/// <summary>Against a real redis-server (see RedisServer): layout, notifications and faults.</summary>
[Collection(ConsentTimingDefinition.Name)]
public sealed class RedisConsentStoreTests
{
    [Fact]
    public async Task Gateway_writes_follow_the_documented_layout_and_read_back()
    {
        await using var h = await RedisHarness.StartAsync();
        var expires = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

        var granted = await h.Store.SetPurposeAsync("alice", "marketing", ConsentStatus.Granted, expires, "cmp", default);
        var gpc = await h.Store.SetGpcAsync("alice", true, default);

        Assert.Equal((1L, 2L), (granted.Version, gpc.Version));
        var hash = (await h.Raw.HashGetAllAsync("consent:alice")).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        Assert.Equal(["gpc", "p:marketing", "v"], hash.Keys.Order());
        Assert.Equal(("2", "1"), (hash["v"], hash["gpc"]));
        using (var json = JsonDocument.Parse(hash["p:marketing"]))
        {
            var p = json.RootElement;
            Assert.Equal("granted", p.GetProperty("status").GetString());
            Assert.Equal("2027-01-01T00:00:00Z", p.GetProperty("expiresAt").GetString());
            Assert.Equal("cmp", p.GetProperty("source").GetString());
            Assert.Equal(granted.EffectiveAt, p.GetProperty("updatedAt").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));
        }

        var read = await h.Store.ReadAsync("alice", default);
        Assert.True(read.Succeeded);
        Assert.Equal((2L, true), (read.Consent!.Version, read.Consent.Gpc));
        var marketing = read.Consent.Find("marketing")!;
        Assert.Equal((ConsentStatus.Granted, expires, "cmp"), (marketing.Status, marketing.ExpiresAt, marketing.Source));

        await h.Store.SetGpcAsync("alice", false, default);
        await h.Store.SetPurposeAsync("alice", "marketing", null, null, null, default);
        Assert.Equal(["v"], (await h.Raw.HashKeysAsync("consent:alice")).Select(k => (string)k!));
    }

    [Fact]
    public async Task Every_gateway_write_and_erase_publishes_the_subject_id()
    {
        await using var h = await RedisHarness.StartAsync();
        var queue = await h.RawSubscriber.SubscribeAsync(RedisChannel.Literal("consent:changes"));

        await h.Store.SetPurposeAsync("alice", "marketing", ConsentStatus.Denied, null, null, default);
        await h.Store.EraseAsync("alice", default);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.Equal("alice", (string)(await queue.ReadAsync(timeout.Token)).Message!);
        Assert.Equal("alice", (string)(await queue.ReadAsync(timeout.Token)).Message!);
        Assert.False(await h.Raw.KeyExistsAsync("consent:alice"));
        Assert.Null((await h.Store.ReadAsync("alice", default)).Consent);
    }

    [Fact]
    public async Task An_external_raw_write_invalidates_L1_and_is_read_back()
    {
        await using var h = await RedisHarness.StartAsync();
        Assert.Equal(ConsentSource.Store, (await h.LookupAsync("bob")).Source);
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("bob")).Source);
        var before = h.Invalidations;

        // What a consent platform does, following the README ("Redis layout") with a plain client.
        await h.Raw.HashSetAsync("consent:bob", "p:analytics", """{"status":"granted","expiresAt":null,"updatedAt":"2026-05-01T10:00:00Z","source":"platform"}""");
        await h.Raw.HashIncrementAsync("consent:bob", "v");
        await h.RawSubscriber.PublishAsync(RedisChannel.Literal("consent:changes"), "bob");

        await RedisHarness.WaitUntilAsync(() => h.Invalidations > before, "invalidation received");
        var after = await h.LookupAsync("bob");
        Assert.Equal(ConsentSource.Store, after.Source);
        Assert.Equal(1, after.Consent!.Version);
        Assert.Equal(ConsentStatus.Granted, after.Consent.Find("analytics")?.Status);
        // Source is the store's bookkeeping (L1 keeps only what evaluation needs): read it there.
        Assert.Equal("platform", (await h.Store.ReadAsync("bob", default)).Consent!.Find("analytics")!.Source);
    }

    [Fact]
    public async Task Unparsable_fields_from_an_external_writer_fail_closed()
    {
        await using var h = await RedisHarness.StartAsync();
        await h.Raw.HashSetAsync("consent:carol",
        [
            new HashEntry("v", "not-a-number"),
            new HashEntry("gpc", "yes"),
            new HashEntry("p:marketing", "{not json"),
            new HashEntry("p:ads", """{"status":"GRANTED"}"""),
            new HashEntry("p:email", """{"status":"granted","expiresAt":"someday"}"""),
            new HashEntry("p:fraud", """{"status":"granted"}"""),
            new HashEntry("note", "ignored"),
        ]);

        var c = (await h.Store.ReadAsync("carol", default)).Consent!;

        Assert.Equal((0L, true), (c.Version, c.Gpc));
        Assert.Equal(ConsentStatus.Denied, c.Find("marketing")!.Status);
        Assert.Equal(ConsentStatus.Denied, c.Find("ads")!.Status);
        Assert.Equal(ConsentStatus.Denied, c.Find("email")!.Status);
        Assert.Equal(ConsentStatus.Granted, c.Find("fraud")!.Status);
        Assert.Equal(4, c.Purposes.Length);
    }

    [Fact]
    public async Task A_killed_server_fails_reads_fast_and_a_restart_recovers()
    {
        await using var h = await RedisHarness.StartAsync();
        var before = h.Invalidations;
        await h.Store.SetPurposeAsync("dave", "marketing", ConsentStatus.Denied, null, null, default);
        // Else the write's own notification may arrive after the lookup below and evict what it cached.
        await RedisHarness.WaitUntilAsync(() => h.Invalidations > before, "own write's notification");
        await h.LookupAsync("dave");
        var generation = h.Hub.Generation;

        h.Server.Stop();
        await RedisHarness.WaitUntilAsync(() => !h.Store.IsAvailable && !h.Store.IsSubscribed, "loss noticed");

        var watch = Stopwatch.StartNew();
        var read = await h.Store.ReadAsync("dave", default);
        var lookup = await h.LookupAsync("dave");
        watch.Stop();
        Assert.False(read.Succeeded);
        // L1 no longer answers on its own (the subscription is gone) and the store cannot: the
        // denial read moments ago is served stale, within the window.
        Assert.False(h.Hub.NotificationsFlowing);
        Assert.Equal(ConsentSource.Stale, lookup.Source);
        Assert.Equal(ConsentStatus.Denied, lookup.Consent!.Find("marketing")?.Status);
        Assert.InRange(watch.ElapsedMilliseconds, 0, 200);
        Assert.Equal(0, h.Metrics.StoreUp.Value);
        await Assert.ThrowsAsync<ConsentStoreException>(() => h.Store.SetGpcAsync("dave", true, default).AsTask());

        h.Server.Start(); // empty again: nothing is persisted
        await h.WaitSubscribedAsync();
        Assert.True(h.Hub.Generation > generation); // everything cached before the gap is distrusted
        await RedisHarness.WaitUntilAsync(() => h.Metrics.StoreUp.Value == 1, "consent_store_up back to 1");
        await h.Store.SetPurposeAsync("dave", "marketing", ConsentStatus.Granted, null, null, default);
        var recovered = await h.LookupAsync("dave");
        Assert.Equal(ConsentSource.Store, recovered.Source);
        Assert.Equal(ConsentStatus.Granted, recovered.Consent!.Find("marketing")?.Status);
    }

    [Fact]
    public async Task A_resubscribe_the_server_refused_is_retried_until_it_is_confirmed()
    {
        await using var h = await RedisHarness.StartAsync();
        var generation = h.Hub.Generation;
        h.Server.Stop();
        await RedisHarness.WaitUntilAsync(() => !h.Store.IsSubscribed, "loss noticed");

        // The server returns refusing every channel: the client reconnects and its own re-SUBSCRIBE
        // is refused (NOPERM), so the library believes the channel has no server and stops there.
        h.Server.Start(["--user", "default", "on", "nopass", "~*", "resetchannels", "+@all"]);
        await RedisHarness.WaitUntilAsync(() => h.Server.Command("ACL", "LOG") != "*0", "a refused SUBSCRIBE in the server's ACL log", describe: h.Describe);
        await RedisHarness.WaitUntilAsync(() => h.Store.IsAvailable, "interactive link back", describe: h.Describe);
        Assert.True((await h.Store.ReadAsync("probe", default)).Succeeded); // reads work: only the channel is refused
        Assert.False(h.Store.IsSubscribed);                                 // so L1 stays distrusted
        Assert.False(h.Hub.NotificationsFlowing);
        Assert.Equal(0, h.Metrics.StoreUp.Value);

        // Access comes back with no reconnect to trigger the library: only our monitor's retry can restore it.
        Assert.Equal("+OK", h.Server.Command("ACL", "SETUSER", "default", "allchannels"));
        await h.WaitSubscribedAsync();
        Assert.True(h.Hub.Generation > generation);
        await RedisHarness.WaitUntilAsync(() => h.Metrics.StoreUp.Value == 1, "consent_store_up back to 1");

        // And it is a working subscription (one handler, not two): a write's notification arrives once.
        await RedisHarness.WaitUntilAsync(() => h.Hub.NotificationsFlowing, "notifications trusted");
        var before = h.Invalidations;
        await h.Store.SetPurposeAsync("grace", "marketing", ConsentStatus.Denied, null, null, default);
        await RedisHarness.WaitUntilAsync(() => h.Invalidations > before, "the write's notification");
        await Task.Delay(200);
        Assert.Equal(before + 1, h.Invalidations);
    }

    [Fact]
    public async Task A_hung_server_answers_within_the_deadline_with_stale_denials_or_Unavailable()
    {
        await using var h = await RedisHarness.StartAsync(o =>
        {
            o.CacheTtl = TimeSpan.FromMilliseconds(100);
            o.LookupTimeout = TimeSpan.FromMilliseconds(100);
            o.StoreTimeout = TimeSpan.FromMilliseconds(200);
        });
        var before = h.Invalidations;
        await h.Store.SetPurposeAsync("erin", "marketing", ConsentStatus.Denied, null, null, default);
        await RedisHarness.WaitUntilAsync(() => h.Invalidations > before, "own write's notification"); // else its echo may evict what we cache next
        await h.LookupAsync("erin");
        await h.LookupAsync("warm-up");
        await Task.Delay(150); // past CacheTtl

        h.Server.Pause();
        var watch = Stopwatch.StartNew();
        var unknown = await h.LookupAsync("frank");
        var denied = await h.LookupAsync("erin");
        watch.Stop();
        h.Server.Resume();

        Assert.Equal(ConsentSource.Unavailable, unknown.Source);
        Assert.Equal(ConsentSource.Stale, denied.Source);
        Assert.Equal(ConsentStatus.Denied, denied.Consent!.Find("marketing")?.Status);
        Assert.InRange(watch.ElapsedMilliseconds, 0, (long)(2 * h.Options.LookupTimeout.TotalMilliseconds) + 200);
    }

    [Fact]
    public async Task Killing_the_pubsub_connection_distrusts_L1_and_resubscribes()
    {
        await using var h = await RedisHarness.StartAsync();
        await h.LookupAsync("gina");
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("gina")).Source);
        var generation = h.Hub.Generation;

        var killed = (long)await h.Raw.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        Assert.True(killed >= 1);

        // Restored (generation +1: L1 distrusted) once the server confirms the re-SUBSCRIBE.
        await RedisHarness.WaitUntilAsync(() => h.Hub.Generation >= generation + 1 && h.Connection.IsSubscribed, "resubscribed");
        Assert.Equal(ConsentSource.Store, (await h.LookupAsync("gina")).Source);
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("gina")).Source);

        // Notifications flow again on the new subscription.
        var before = h.Invalidations;
        await h.RawSubscriber.PublishAsync(RedisChannel.Literal("consent:changes"), "gina");
        await RedisHarness.WaitUntilAsync(() => h.Invalidations > before, "notification after resubscribe");
        Assert.Equal(ConsentSource.Store, (await h.LookupAsync("gina")).Source);
    }

    [Fact]
    public async Task Start_up_with_Redis_down_serves_Unavailable_then_connects_when_it_appears()
    {
        await using var h = await RedisHarness.StartAsync(serverUp: false);

        Assert.False(h.Store.IsAvailable);
        Assert.Equal(ConsentSource.Unavailable, (await h.LookupAsync("hank")).Source);

        h.Server.Start();
        await h.WaitSubscribedAsync();
        var before = h.Invalidations;
        await h.Store.SetPurposeAsync("hank", "marketing", ConsentStatus.Granted, null, null, default);
        await RedisHarness.WaitUntilAsync(() => h.Invalidations > before, "own write's notification");
        Assert.Equal(ConsentStatus.Granted, (await h.LookupAsync("hank")).Consent!.Find("marketing")?.Status);
    }
}
