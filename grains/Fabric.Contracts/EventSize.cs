namespace Fabric.Contracts;

/// <summary>What an event weighs against the byte limits: its payload plus a fixed allowance for the envelope.</summary>
public static class EventSize
{
    /// <summary>The envelope's ids, names and times, rounded up: a few hundred bytes, whatever the payload.</summary>
    public const int EnvelopeAllowance = 256;

    public static long Of(EventEnvelope e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Data.Length + EnvelopeAllowance;
    }
}
