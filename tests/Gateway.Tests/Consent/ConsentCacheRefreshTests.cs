using ConsentGateway.Consent;

namespace ConsentGateway.Tests.Consent;

/// <summary>
/// Refresh-ahead (<see cref="ConsentOptions.EagerRefreshThreshold"/>): a hit late in its entry's TTL is answered
/// from L1 and starts the store read that would otherwise fall on the first request after expiry.
/// </summary>
public sealed class ConsentCacheRefreshTests
{
    [Fact]
    public async Task A_hit_past_the_threshold_is_answered_from_L1_and_reads_the_store_in_the_background()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        await h.LookupAsync("alice");
        var threshold = Threshold(h, h.Options.CacheTtl);

        h.Clock.Advance(threshold - TimeSpan.FromTicks(1));
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("alice")).Source);
        Assert.Equal(1, h.Store.Reads);

        // The store changes behind the cache's back (as if the notification were lost): only a read can see it.
        await h.DenyAsync("alice");
        h.Clock.Advance(TimeSpan.FromTicks(1));
        var late = await h.LookupAsync("alice");
        Assert.Equal(ConsentSource.L1, late.Source);
        Assert.Equal(ConsentStatus.Granted, late.Consent!.Find("marketing")?.Status);
        await ConsentCacheTests.WaitUntilAsync(async () => (await h.LookupAsync("alice")).Consent!.Find("marketing")?.Status == ConsentStatus.Denied);
        Assert.Equal(2, h.Store.Reads);
        Assert.Equal(1, h.Lookups("refresh", "started"));

        // Past the first entry's end the refreshed one answers: no request of alice's has missed since the first.
        h.Clock.Advance(h.Options.CacheTtl - threshold);
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("alice")).Source);
        Assert.Equal(1, h.Lookups("l1", "miss"));
        Assert.Equal(2, h.Store.Reads);
    }

    [Fact]
    public async Task The_caller_does_not_wait_and_one_read_serves_every_hit_meanwhile()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        await h.LookupAsync("alice");
        h.Store.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Clock.Advance(Threshold(h, h.Options.CacheTtl));

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(ConsentSource.L1, AnsweredAtOnce(h.Cache, "alice"));
        }

        await h.Store.AtGate.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(2, h.Store.Reads);
        Assert.Equal(1, h.Lookups("refresh", "started"));

        h.Store.Gate.SetResult();
        h.Store.Gate = null;

        // The read must have returned before the manual clock jumps past the flight's own deadline
        // (StoreTimeout on the same clock), or the jump cancels it and the next lookup misses and reads
        // again: the once-in-a-while third read CI saw. Once its duration is recorded the read's answer is
        // in hand; its write-back follows, and a lookup meanwhile joins the flight rather than reading.
        await ConsentCacheTests.WaitUntilAsync(() => Task.FromResult(h.Metrics.StoreDuration.Count == 2));
        h.Clock.Advance(h.Options.CacheTtl - Threshold(h, h.Options.CacheTtl));
        await ConsentCacheTests.WaitUntilAsync(async () => (await h.LookupAsync("alice")).Source == ConsentSource.L1);
        Assert.Equal(2, h.Store.Reads);
    }

    [Fact]
    public async Task A_failed_refresh_leaves_the_entry_to_run_out_as_before()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        await h.LookupAsync("alice");
        h.Store.Mode = StoreMode.Fail;

        h.Clock.Advance(Threshold(h, h.Options.CacheTtl));
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("alice")).Source);
        await ConsentCacheTests.WaitUntilAsync(() => Task.FromResult(h.Store.Reads == 2));

        // Still the old entry until its TTL, then the miss path and its stale rules, exactly as without refresh-ahead.
        h.Clock.Advance(h.Options.CacheTtl - Threshold(h, h.Options.CacheTtl) - TimeSpan.FromTicks(1));
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("alice")).Source);
        h.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(ConsentSource.Stale, (await h.LookupAsync("alice")).Source);
    }

    [Fact]
    public async Task An_invalidation_during_a_refresh_keeps_its_answer_out_of_L1()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        await h.LookupAsync("alice");
        h.Store.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        h.Clock.Advance(Threshold(h, h.Options.CacheTtl));
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("alice")).Source);
        await h.Store.AtGate.Task.WaitAsync(TimeSpan.FromSeconds(5)); // the refresh has read the grant
        await h.DenyAsync("alice");
        h.Hub.Invalidate("alice");
        h.Store.Gate.SetResult();
        h.Store.Gate = null;

        var after = await h.LookupAsync("alice");
        Assert.NotEqual(ConsentSource.L1, after.Source);
        Assert.Equal(ConsentStatus.Denied, after.Consent!.Find("marketing")?.Status);
        await ConsentCacheTests.WaitUntilAsync(async () => (await h.LookupAsync("alice")).Consent!.Find("marketing")?.Status == ConsentStatus.Denied);
    }

    [Fact]
    public async Task No_record_is_refreshed_ahead_within_its_own_ttl()
    {
        using var h = new CacheHarness();
        await h.LookupAsync("nobody");

        h.Clock.Advance(Threshold(h, h.Options.NegativeCacheTtl));
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("nobody")).Source);
        await ConsentCacheTests.WaitUntilAsync(() => Task.FromResult(h.Store.Reads == 2));

        h.Clock.Advance(h.Options.NegativeCacheTtl - Threshold(h, h.Options.NegativeCacheTtl));
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("nobody")).Source);
        Assert.Equal(1, h.Lookups("l1", "miss"));
    }

    [Fact]
    public async Task A_threshold_of_one_turns_refresh_ahead_off()
    {
        using var h = new CacheHarness(configure: o => o.EagerRefreshThreshold = 1);
        await h.GrantAsync("alice");
        await h.LookupAsync("alice");

        h.Clock.Advance(h.Options.CacheTtl - TimeSpan.FromTicks(1));
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("alice")).Source);
        Assert.Equal(1, h.Store.Reads); // a refresh would have started its read within the lookup
        Assert.Equal(0, h.Lookups("refresh", "started"));

        h.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(ConsentSource.Store, (await h.LookupAsync("alice")).Source);
    }

    /// <summary>The source of a lookup that must complete within the call (no waiting on the store).</summary>
    private static ConsentSource AnsweredAtOnce(ConsentCache cache, string subject)
    {
        var pending = cache.LookupAsync(subject, CancellationToken.None);
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("the lookup waited");
        }

        return pending.Result.Source;
    }

    /// <summary>The age at which an entry with this TTL starts being refreshed ahead (rounded up to a whole tick).</summary>
    private static TimeSpan Threshold(CacheHarness h, TimeSpan ttl) =>
        ttl - TimeSpan.FromTicks((long)(ttl.Ticks * (1 - h.Options.EagerRefreshThreshold)));
}
