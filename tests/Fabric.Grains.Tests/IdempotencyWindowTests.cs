using Fabric.Grains.Customers;
using Fabric.Grains.Log;

namespace Fabric.Grains.Tests;

/// <summary>The window keeps a hash of each (source, key) and the event id's Guid: what it answers must not change.</summary>
public sealed class IdempotencyWindowTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public void A_source_and_key_that_concatenate_alike_are_different_pairs()
    {
        var window = new IdempotencyWindow(TimeSpan.FromHours(1), 10);
        window.Remember(new RememberedKey("ab", "c", "evt_" + Guid.CreateVersion7().ToString("N"), 1, Now));

        Assert.True(window.TryGet("ab", "c", Now, out _));
        Assert.False(window.TryGet("a", "bc", Now, out _));
        Assert.False(window.TryGet("abc", "", Now, out _));
    }

    [Theory]
    [InlineData("evt_0198f3c2a1b27c4d8e9f0a1b2c3d4e5f")]
    [InlineData("evt_0198F3C2A1B27C4D8E9F0A1B2C3D4E5F")]
    [InlineData("from-another-log-7")]
    [InlineData("evt_not-a-guid-but-thirty-six-chars")]
    public void The_first_events_id_comes_back_exactly_whatever_its_shape(string id)
    {
        var window = new IdempotencyWindow(TimeSpan.FromHours(1), 10);
        window.Remember(new RememberedKey("stripe", "evt_1", id, 42, Now));

        Assert.True(window.TryGet("stripe", "evt_1", Now, out var first));
        Assert.Equal(new Fabric.Contracts.AppendResult(id, 42, Duplicate: true), first);
    }

    [Fact]
    public void A_key_longer_than_the_stack_buffer_is_remembered_too()
    {
        var window = new IdempotencyWindow(TimeSpan.FromHours(1), 10);
        var key = new string('k', 4_000);
        window.Remember(new RememberedKey("stripe", key, "evt_" + Guid.CreateVersion7().ToString("N"), 1, Now));

        Assert.True(window.TryGet("stripe", key, Now, out _));
        Assert.False(window.TryGet("stripe", key[..^1] + "j", Now, out _));
    }
}
