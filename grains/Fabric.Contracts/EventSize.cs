namespace Fabric.Contracts;

/// <summary>What an event weighs against the byte limits: its payload plus a fixed allowance for the envelope.</summary>
public static class EventSize
{
    /// <summary>The envelope's ids, names and times, rounded up: a few hundred bytes, whatever the payload.</summary>
    public const int EnvelopeAllowance = 256;

    public static long Of(EventEnvelope e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Data.Length + (e.Original?.Length ?? 0) + EnvelopeAllowance;
    }

    /// <summary>
    /// How many of <paramref name="available"/> events (the i-th from <paramref name="at"/>) fit in
    /// <paramref name="max"/> events and <paramref name="maxBytes"/>: always at least one when there is one, so an event
    /// larger than the bound still travels, alone. The one rule of every byte-bounded page, push and log write.
    /// </summary>
    public static int Fit(int available, int max, long maxBytes, Func<int, EventEnvelope> at)
    {
        ArgumentNullException.ThrowIfNull(at);
        return FitWeights(available, max, maxBytes, i => Of(at(i)));
    }

    /// <summary>The rule of <see cref="Fit"/>, for events known by their weights (the i-th from <paramref name="weightAt"/>).</summary>
    public static int FitWeights(int available, int max, long maxBytes, Func<int, long> weightAt)
    {
        ArgumentNullException.ThrowIfNull(weightAt);
        var count = 0;
        long bytes = 0;
        while (count < available && count < max)
        {
            bytes += weightAt(count);
            if (count > 0 && bytes > maxBytes)
            {
                break;
            }

            count++;
        }

        return count;
    }
}
