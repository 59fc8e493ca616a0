using Fabric.Outbound.Delivery;

namespace Fabric.Outbound.Endpoints;

/// <summary>What an attempt leads to. Decided by <see cref="Of"/> from the answer alone; the grain applies it.</summary>
internal abstract record AttemptOutcome
{
    private AttemptOutcome()
    {
    }

    /// <summary>The receiver took it: settled as delivered.</summary>
    public sealed record Delivered : AttemptOutcome;

    /// <summary>Failed for now: attempted again at <paramref name="Due"/>.</summary>
    public sealed record RetryAt(DateTimeOffset Due) : AttemptOutcome;

    /// <summary>Failed for good (the schedule is spent, or it was a manual attempt): settled as failed.</summary>
    public sealed record Failed : AttemptOutcome;

    /// <summary>The endpoint stops delivering, for <paramref name="Reason"/>; the message itself goes as <paramref name="Then"/> says.</summary>
    public sealed record Disable(string Reason, AttemptOutcome Then) : AttemptOutcome;

    /// <summary>
    /// The outcome of an answer to the <paramref name="attempts"/>-th attempt of a message. A 410 stops the endpoint with
    /// the message pending (a re-enable sends it); failing for <paramref name="disableAfter"/> stops it too. A retry
    /// waits the schedule's step with up to <paramref name="jitter"/> more (<paramref name="random"/> in [0, 1)), or the
    /// receiver's Retry-After, never less than a second.
    /// </summary>
    public static AttemptOutcome Of(
        AttemptResult result, int attempts, bool manual, EndpointRecord config, DateTimeOffset now, DateTimeOffset failingSince,
        TimeSpan disableAfter, double jitter, double random)
    {
        if (result.Succeeded)
        {
            return new Delivered();
        }

        if (result.Gone)
        {
            return new Disable("the endpoint answered 410 Gone", new RetryAt(now));
        }

        AttemptOutcome next;
        if (manual || attempts > config.RetrySchedule.Count)
        {
            next = new Failed();
        }
        else
        {
            var step = config.RetrySchedule[attempts - 1];
            // A Retry-After of 0 (or a date gone by) must not spend the schedule back to back.
            var wait = result.RetryAfter is { } asked ? TimeSpan.FromTicks(Math.Max(asked.Ticks, TimeSpan.TicksPerSecond)) : step * (1 + (jitter * random));
            next = new RetryAt(now + wait);
        }

        return config.Enabled && now - failingSince >= disableAfter ? new Disable($"every attempt failed since {failingSince:O}", next) : next;
    }
}
