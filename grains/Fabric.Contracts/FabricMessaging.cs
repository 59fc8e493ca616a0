namespace Fabric.Contracts;

/// <summary>
/// Orleans' message size limits, set deliberately on silos and gateways alike rather than left at Orleans' defaults
/// (100 MB bodies): a page, a push or a log write is bounded by bytes well below the body limit, so no call that
/// carries events can fail for its size.
/// </summary>
public static class FabricMessaging
{
    /// <summary>Largest Orleans message body: 32 MiB.</summary>
    public const int MaxMessageBodyBytes = 32 * 1024 * 1024;

    /// <summary>Largest Orleans message header: 64 KiB (ours are a few hundred bytes).</summary>
    public const int MaxMessageHeaderBytes = 64 * 1024;

    /// <summary>
    /// The most any byte-bounded call (page, push, log write) may be set to: a quarter of the body limit (8 MiB), leaving
    /// room for the one event that may exceed the bound (at most <see cref="MaxEventBytes"/>) and the envelopes.
    /// </summary>
    public const long MaxPayloadBytes = MaxMessageBodyBytes / 4;

    /// <summary>The largest event body a gateway may be configured to accept: 16 MiB.</summary>
    public const long MaxEventBytes = 16 * 1024 * 1024;
}
