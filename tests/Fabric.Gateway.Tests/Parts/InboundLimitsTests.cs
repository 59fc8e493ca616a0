using Fabric.Gateway.Sockets;
using Microsoft.Extensions.Time.Testing;

namespace Fabric.Gateway.Tests.Parts;

/// <summary>What one socket may send, on a fake clock: its frame rate and its invalid frames.</summary>
public sealed class InboundLimitsTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void A_burst_is_allowed_then_frames_come_back_at_the_configured_rate()
    {
        var limits = new InboundLimits(new SocketOptions { MessagesPerSecond = 10, MessageBurst = 5 }, _clock);

        Assert.Equal(5, Enumerable.Range(0, 20).Count(_ => limits.TryTake()));

        _clock.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(3, Enumerable.Range(0, 20).Count(_ => limits.TryTake()));
    }

    [Fact]
    public void Invalid_frames_over_the_limit_in_one_minute_are_one_too_many_and_a_new_minute_starts_afresh()
    {
        var limits = new InboundLimits(new SocketOptions { MaxInvalidFramesPerMinute = 3 }, _clock);

        Assert.Equal([false, false, false, true], Enumerable.Range(0, 4).Select(_ => limits.CountInvalid()));

        _clock.Advance(TimeSpan.FromSeconds(61));
        Assert.False(limits.CountInvalid());
    }
}
