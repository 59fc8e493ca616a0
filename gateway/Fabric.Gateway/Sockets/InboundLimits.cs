namespace Fabric.Gateway.Sockets;

/// <summary>
/// What one socket may send: a token bucket of <see cref="SocketOptions.MessagesPerSecond"/> frames (burst
/// <see cref="SocketOptions.MessageBurst"/>) and at most <see cref="SocketOptions.MaxInvalidFramesPerMinute"/> invalid
/// ones a minute. Four fields and no timer, rather than an ASP.NET Core rate limiter (and its replenishment timer)
/// per socket; only the socket's receive loop touches them, so there is no lock.
/// </summary>
internal sealed class InboundLimits(SocketOptions options, TimeProvider clock)
{
    private static readonly TimeSpan InvalidWindow = TimeSpan.FromMinutes(1);

    private double _tokens = options.MessageBurst;
    private long _tokensAt = clock.GetTimestamp();
    private int _invalid;
    private long? _invalidSince;

    /// <summary>Takes one frame's token; false when the bucket is empty.</summary>
    public bool TryTake()
    {
        var now = clock.GetTimestamp();
        _tokens = Math.Min(options.MessageBurst, _tokens + (clock.GetElapsedTime(_tokensAt, now).TotalSeconds * options.MessagesPerSecond));
        _tokensAt = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens--;
        return true;
    }

    /// <summary>Counts an invalid frame; true when it is one too many for the current minute.</summary>
    public bool CountInvalid()
    {
        var now = clock.GetTimestamp();
        // The minute starts at the first invalid frame after the last one ended.
        if (_invalidSince is not { } since || clock.GetElapsedTime(since, now) > InvalidWindow)
        {
            _invalidSince = now;
            _invalid = 0;
        }

        return ++_invalid > options.MaxInvalidFramesPerMinute;
    }
}
