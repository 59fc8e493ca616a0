namespace Fabric.Contracts;

/// <summary>
/// The rule for event types, shared by every place one is set: the gateway (what producers send) and the grains (what
/// a customer's Wasm transform returns).
/// </summary>
public static class EventNames
{
    public const int MaxTypeLength = 200;

    /// <summary>Event types: 1–200 printable ASCII characters without spaces or <c>*</c> (reserved for topics).</summary>
    public static bool IsValidType(string? value)
    {
        if (value is not { Length: > 0 and <= MaxTypeLength })
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is <= ' ' or > '~' or '*')
            {
                return false;
            }
        }

        return true;
    }
}
