using ConsentGateway.Policy;

namespace ConsentGateway.Tests.Policy;

public sealed class VerifiedCallerKeysTests
{
    private static readonly Caller App = new() { Name = "app", PurposeMask = 1 };

    [Fact]
    public void Remembers_verified_keys_up_to_its_capacity_and_no_further()
    {
        var keys = new VerifiedCallerKeys();
        for (var i = 0; i < VerifiedCallerKeys.Capacity + 10; i++)
        {
            keys.Remember("key-" + i, App);
        }

        Assert.True(keys.TryGet("key-0", out var first));
        Assert.Same(App, first);
        Assert.True(keys.TryGet("key-" + (VerifiedCallerKeys.Capacity - 1), out _));
        Assert.False(keys.TryGet("key-" + VerifiedCallerKeys.Capacity, out _));
        Assert.False(keys.TryGet("never-seen", out _));
    }

    [Fact]
    public void Keys_are_compared_ordinally()
    {
        var keys = new VerifiedCallerKeys();
        keys.Remember("Secret-Key", App);
        Assert.False(keys.TryGet("secret-key", out _));
        Assert.False(keys.TryGet("Secret-Key ", out _));
        Assert.True(keys.TryGet("Secret-Key", out _));
    }
}
