using System.Diagnostics;
using ConsentGateway.Consent;
using ConsentGateway.Tests.Infrastructure;

namespace ConsentGateway.Tests.Consent;

public sealed class ConsentCacheTests
{
    [Fact]
    public async Task First_lookup_reads_the_store_and_the_second_is_an_L1_hit()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");

        var first = await h.LookupAsync("alice");
        var second = await h.LookupAsync("alice");

        Assert.Equal(ConsentSource.Store, first.Source);
        Assert.Equal(ConsentSource.L1, second.Source);
        Assert.Same(first.Consent, second.Consent);
        Assert.Equal(ConsentStatus.Granted, second.Consent!.Find("marketing")?.Status);
        Assert.Equal(1, h.Store.Reads);
        Assert.Equal(1, h.Lookups("l1", "hit"));
        Assert.Equal(1, h.Lookups("l1", "miss"));
        Assert.Equal(1, h.Lookups("store", "found"));
    }

    [Fact]
    public async Task Entry_is_fresh_until_CacheTtl_then_read_again()
    {
        // Without refresh-ahead, whose hit late in the TTL would renew the entry (ConsentCacheRefreshTests).
        using var h = new CacheHarness(configure: o => o.EagerRefreshThreshold = 1);
        await h.GrantAsync("alice");
        await h.LookupAsync("alice");

        h.Clock.Advance(h.Options.CacheTtl - TimeSpan.FromTicks(1));
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("alice")).Source);

        h.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(ConsentSource.Store, (await h.LookupAsync("alice")).Source);
        Assert.Equal(2, h.Store.Reads);
    }

    [Fact]
    public async Task No_record_is_answered_with_Empty_and_cached_for_NegativeCacheTtl_only()
    {
        using var h = new CacheHarness(configure: o => o.EagerRefreshThreshold = 1);

        var first = await h.LookupAsync("nobody");
        Assert.Equal(ConsentSource.Store, first.Source);
        Assert.True(first.Consent is { NotFound: true, IsEmpty: true, Version: 0 });
        Assert.Equal(1, h.Lookups("store", "not_found"));

        h.Clock.Advance(h.Options.NegativeCacheTtl - TimeSpan.FromTicks(1));
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("nobody")).Source);

        h.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(ConsentSource.Store, (await h.LookupAsync("nobody")).Source);
        Assert.Equal(2, h.Store.Reads);
    }

    [Fact]
    public async Task Hundred_concurrent_misses_cause_one_store_read()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        h.Store.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Real parallelism on the join path; the gate holds the one read open meanwhile.
        var lookups = new Task<ConsentLookupResult>[100];
        Parallel.For(0, lookups.Length, i => lookups[i] = h.LookupAsync("alice").AsTask());
        await h.Store.AtGate.Task.WaitAsync(TimeSpan.FromSeconds(5));
        h.Store.Gate.SetResult();
        var results = await Task.WhenAll(lookups).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(1, h.Store.Reads);
        Assert.All(results, r => Assert.Equal(ConsentStatus.Granted, r.Consent!.Find("marketing")?.Status));
    }

    [Fact]
    public async Task Hanging_store_gives_Unavailable_at_the_lookup_deadline()
    {
        using var h = new CacheHarness();
        h.Store.Mode = StoreMode.Hang;

        var lookup = h.LookupAsync("alice").AsTask();
        Assert.False(lookup.IsCompleted);

        h.Clock.Advance(h.Options.LookupTimeout);
        var result = await lookup.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(ConsentSource.Unavailable, result.Source);
        Assert.Null(result.Consent);
        Assert.Equal(1, h.Lookups("none", "unavailable"));
    }

    [Fact]
    public async Task A_hung_flight_is_abandoned_at_StoreTimeout_so_the_subject_recovers()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        h.Store.Mode = StoreMode.Hang;
        var lookup = h.LookupAsync("alice").AsTask();
        h.Clock.Advance(h.Options.StoreTimeout);
        Assert.Equal(ConsentSource.Unavailable, (await lookup.WaitAsync(TimeSpan.FromSeconds(5))).Source);

        h.Store.Mode = StoreMode.Pass;
        Assert.Equal(ConsentSource.Store, (await h.LookupAsync("alice")).Source);
    }

    [Fact]
    public async Task A_read_that_misses_the_caller_deadline_still_refreshes_L1()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        h.Store.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var lookup = h.LookupAsync("alice").AsTask();
        await h.Store.AtGate.Task.WaitAsync(TimeSpan.FromSeconds(5));
        h.Clock.Advance(h.Options.LookupTimeout);
        Assert.Equal(ConsentSource.Unavailable, (await lookup.WaitAsync(TimeSpan.FromSeconds(5))).Source);

        h.Store.Gate.SetResult();
        await WaitUntilAsync(async () => (await h.LookupAsync("alice")).Source == ConsentSource.L1);
        Assert.Equal(1, h.Store.Reads);
    }

    [Fact]
    public async Task Store_that_throws_gives_Unavailable_without_an_exception()
    {
        using var h = new CacheHarness();
        h.Store.Mode = StoreMode.Throw;

        var result = await h.LookupAsync("alice");

        Assert.Equal(ConsentSource.Unavailable, result.Source);
    }

    [Fact]
    public async Task A_cached_denial_is_served_stale_within_the_window_and_fails_closed_after()
    {
        using var h = new CacheHarness();
        await h.DenyAsync("alice");
        await h.LookupAsync("alice");
        h.Store.Mode = StoreMode.Fail;

        h.Clock.Advance(h.Options.CacheTtl + h.Options.StaleGrantWindow - TimeSpan.FromTicks(1));
        var result = await h.LookupAsync("alice");
        Assert.Equal(ConsentSource.Stale, result.Source);
        Assert.Equal(ConsentStatus.Denied, result.Consent!.Find("marketing")?.Status);
        Assert.Equal(1, h.Lookups("stale", "hit"));

        // Past the window a denial decides exactly as failing closed does, so nothing is lost.
        h.Clock.Advance(TimeSpan.FromHours(6));
        Assert.Equal(ConsentSource.Unavailable, (await h.LookupAsync("alice")).Source);
    }

    [Fact]
    public async Task A_cached_grant_is_served_stale_within_the_window()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        await h.LookupAsync("alice");
        h.Store.Mode = StoreMode.Fail;

        h.Clock.Advance(h.Options.CacheTtl + h.Options.StaleGrantWindow - TimeSpan.FromTicks(1));
        var result = await h.LookupAsync("alice");

        Assert.Equal(ConsentSource.Stale, result.Source);
        Assert.Equal(ConsentStatus.Granted, result.Consent!.Find("marketing")?.Status);
    }

    [Fact]
    public async Task A_cached_grant_past_the_window_is_Unavailable()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        await h.LookupAsync("alice");
        h.Store.Mode = StoreMode.Fail;

        h.Clock.Advance(h.Options.CacheTtl + h.Options.StaleGrantWindow);
        var result = await h.LookupAsync("alice");

        Assert.Equal(ConsentSource.Unavailable, result.Source);
        Assert.Null(result.Consent);
    }

    [Fact]
    public async Task A_cached_no_record_is_not_served_past_the_window()
    {
        // "No record" lets legitimate-interest and opt-out data through: it must not outlive the window.
        using var h = new CacheHarness();
        await h.LookupAsync("nobody");
        h.Store.Mode = StoreMode.Fail;

        h.Clock.Advance(h.Options.CacheTtl + h.Options.StaleGrantWindow);

        Assert.Equal(ConsentSource.Unavailable, (await h.LookupAsync("nobody")).Source);
    }

    [Fact]
    public async Task InvalidateAll_makes_old_entries_neither_fresh_nor_stale()
    {
        using var h = new CacheHarness();
        await h.DenyAsync("alice");
        await h.LookupAsync("alice");

        h.Cache.InvalidateAll();
        h.Store.Mode = StoreMode.Fail;
        Assert.Equal(ConsentSource.Unavailable, (await h.LookupAsync("alice")).Source);

        h.Store.Mode = StoreMode.Pass;
        Assert.Equal(ConsentSource.Store, (await h.LookupAsync("alice")).Source);
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("alice")).Source);
    }

    [Fact]
    public async Task Invalidate_evicts_the_subject_only()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        await h.GrantAsync("bob");
        await h.LookupAsync("alice");
        await h.LookupAsync("bob");

        h.Cache.Invalidate("alice");

        Assert.Equal(ConsentSource.Store, (await h.LookupAsync("alice")).Source);
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("bob")).Source);
    }

    [Fact]
    public async Task Invalidation_during_a_fetch_keeps_the_old_answer_out_of_L1()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        h.Store.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var inFlight = h.LookupAsync("alice").AsTask();
        await h.Store.AtGate.Task.WaitAsync(TimeSpan.FromSeconds(5)); // the old grant has been read
        await h.DenyAsync("alice");
        h.Hub.Invalidate("alice");
        h.Store.Gate.SetResult();
        await inFlight.WaitAsync(TimeSpan.FromSeconds(5));

        h.Store.Gate = null;
        var after = await h.LookupAsync("alice");

        Assert.Equal(ConsentSource.Store, after.Source);
        Assert.Equal(ConsentStatus.Denied, after.Consent!.Find("marketing")?.Status);
        Assert.Equal(2, h.Store.Reads);
    }

    [Fact]
    public async Task A_fetch_that_started_before_InvalidateAll_does_not_fill_L1()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        h.Store.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = h.LookupAsync("alice").AsTask();
        await h.Store.AtGate.Task.WaitAsync(TimeSpan.FromSeconds(5));

        h.Cache.InvalidateAll();
        var late = h.LookupAsync("alice").AsTask(); // must not join the older flight
        h.Store.Gate.SetResult();
        await Task.WhenAll(inFlight, late).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(2, h.Store.Reads);
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("alice")).Source); // filled by the newer read only
        h.Store.Mode = StoreMode.Fail;
        h.Cache.InvalidateAll();
        Assert.Equal(ConsentSource.Unavailable, (await h.LookupAsync("alice")).Source);
    }

    [Fact]
    public async Task A_caller_arriving_after_an_invalidation_does_not_join_the_older_flight()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        var oldGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Store.Gate = oldGate;
        var inFlight = h.LookupAsync("alice").AsTask();
        await h.Store.AtGate.Task.WaitAsync(TimeSpan.FromSeconds(5));

        await h.DenyAsync("alice");
        h.Hub.Invalidate("alice");
        h.Store.Gate = null;
        var late = await h.LookupAsync("alice").AsTask().WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(ConsentStatus.Denied, late.Consent!.Find("marketing")?.Status);
        oldGate.SetResult();
        await inFlight.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(ConsentStatus.Denied, (await h.LookupAsync("alice")).Consent!.Find("marketing")?.Status);
    }

    [Fact]
    public async Task While_the_subscription_is_lost_L1_does_not_answer_and_gap_entries_are_distrusted_after()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        await h.LookupAsync("alice");

        h.Hub.SubscriptionLost();
        Assert.Equal(ConsentSource.Store, (await h.LookupAsync("alice")).Source);
        Assert.Equal(ConsentSource.Store, (await h.LookupAsync("alice")).Source);

        h.Hub.SubscriptionRestored();
        h.Store.Mode = StoreMode.Fail;
        Assert.Equal(ConsentSource.Unavailable, (await h.LookupAsync("alice")).Source);

        h.Store.Mode = StoreMode.Pass;
        Assert.Equal(ConsentSource.Store, (await h.LookupAsync("alice")).Source);
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("alice")).Source);
    }

    [Fact]
    public async Task Caller_cancellation_is_reported_as_cancellation()
    {
        using var h = new CacheHarness();
        h.Store.Mode = StoreMode.Hang;
        using var cts = new CancellationTokenSource();

        var lookup = h.LookupAsync("alice");
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Cache.LookupAsync("bob", cts.Token).AsTask());
        Assert.False(lookup.IsCompleted);
    }

    [Fact]
    public async Task An_L1_hit_allocates_nothing()
    {
        using var h = new CacheHarness();
        await h.GrantAsync("alice");
        await h.LookupAsync("alice");
        for (var i = 0; i < 100; i++)
        {
            Hit(h.Cache);
        }

        Assert.Equal(0, ThreadAllocations.LeastOver(1_000, () => Hit(h.Cache)));

        static void Hit(ConsentCache cache)
        {
            var pending = cache.LookupAsync("alice", CancellationToken.None);
            if (!pending.IsCompletedSuccessfully || pending.Result.Source != ConsentSource.L1)
            {
                throw new InvalidOperationException("expected a synchronous L1 hit");
            }
        }
    }

    [Fact]
    public async Task Size_limit_bounds_the_number_of_cached_subjects()
    {
        using var h = new CacheHarness(configure: o => o.CacheSizeLimit = 10);
        for (var i = 0; i < 50; i++)
        {
            await h.LookupAsync("s" + i);
        }

        await Task.Delay(100); // compaction runs in the background
        var hits = 0;
        for (var i = 0; i < 50; i++)
        {
            if ((await h.LookupAsync("s" + i)).Source == ConsentSource.L1)
            {
                hits++;
            }
        }

        Assert.InRange(hits, 0, 10);
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, int timeoutMs = 5000)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.ElapsedMilliseconds > timeoutMs)
            {
                throw new TimeoutException("condition not reached in time");
            }

            await Task.Delay(10);
        }
    }
}
