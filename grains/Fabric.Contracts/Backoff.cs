namespace Fabric.Contracts;

/// <summary>
/// How long a retry loop waits before its next attempt: <see cref="Initial"/>, multiplied by <see cref="Factor"/> after
/// each failure, never more than <see cref="Cap"/>, plus up to <see cref="Jitter"/> of itself at random so that many
/// loops failing together do not retry together. Every retry loop in Fabric waits by one of these.
/// </summary>
public sealed record Backoff(TimeSpan Initial, double Factor, TimeSpan Cap, double Jitter = 0)
{
    /// <summary>The same wait after every failure.</summary>
    public static Backoff Fixed(TimeSpan wait) => new(wait, 1, wait);

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1 (1 = after the first failure).</summary>
    public TimeSpan Delay(int attempt) => Delay(attempt, Jitter == 0 ? 0 : Random.Shared.NextDouble());

    /// <summary>The wait with <paramref name="random"/> (in [0, 1)) as the jitter's draw.</summary>
    public TimeSpan Delay(int attempt, double random)
    {
        var grown = Initial.TotalMilliseconds * Math.Pow(Factor, Math.Max(0, attempt - 1));
        var capped = Math.Min(grown, Cap.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (1 + (Jitter * random)));
    }
}
