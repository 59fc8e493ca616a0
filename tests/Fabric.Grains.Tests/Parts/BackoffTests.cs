using Fabric.Contracts;

namespace Fabric.Grains.Tests.Parts;

/// <summary>The one wait every retry loop uses.</summary>
public sealed class BackoffTests
{
    [Fact]
    public void Waits_grow_by_the_factor_up_to_the_cap()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), 2, TimeSpan.FromSeconds(1));

        Assert.Equal([100.0, 200, 400, 800, 1000, 1000], Enumerable.Range(1, 6).Select(a => backoff.Delay(a).TotalMilliseconds));
    }

    [Fact]
    public void Jitter_only_lengthens_a_wait_by_up_to_its_share()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), 1, TimeSpan.FromSeconds(1), Jitter: 0.2);

        Assert.Equal(TimeSpan.FromSeconds(1), backoff.Delay(3, random: 0));
        Assert.Equal(TimeSpan.FromSeconds(1.1), backoff.Delay(3, random: 0.5));
        Assert.All(Enumerable.Range(1, 100), a => Assert.InRange(backoff.Delay(a).TotalSeconds, 1, 1.2));
    }

    [Fact]
    public void A_fixed_backoff_waits_the_same_every_time() =>
        Assert.All(Enumerable.Range(1, 5), a => Assert.Equal(TimeSpan.FromSeconds(2), Backoff.Fixed(TimeSpan.FromSeconds(2)).Delay(a)));
}
