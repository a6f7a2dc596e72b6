using System.Diagnostics;
using ConsentGateway.Consent;

namespace ConsentGateway.Tests.Consent;

/// <summary>Deadlines in real time, run alone so that other tests cannot starve the timers.</summary>
[Collection(ConsentTimingDefinition.Name)]
public sealed class ConsentCacheTimingTests
{
    [Fact]
    public async Task Hanging_store_in_real_time_answers_within_the_deadline()
    {
        using var h = new CacheHarness(TimeProvider.System, o => o.LookupTimeout = TimeSpan.FromMilliseconds(50));
        h.Store.Mode = StoreMode.Hang;
        await h.LookupAsync("warm-up"); // first call pays for JIT, not for the deadline

        var watch = Stopwatch.StartNew();
        var result = await h.LookupAsync("alice");
        watch.Stop();

        Assert.Equal(ConsentSource.Unavailable, result.Source);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(40), TimeSpan.FromMilliseconds(500));
    }
}
