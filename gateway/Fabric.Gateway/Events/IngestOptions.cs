using System.ComponentModel.DataAnnotations;

namespace Fabric.Gateway.Events;

/// <summary>How a gateway hands single events (webhooks, publishes, socket publishes) to grains. Bound from <c>Fabric:Ingest</c>.</summary>
public sealed class IngestOptions
{
    public const string SectionName = "Fabric:Ingest";

    /// <summary>
    /// Most append calls this gateway has in flight to one customer's grain. An event that arrives while all are busy
    /// waits for the next to finish and goes in one call with the others that waited (the grain admits a call's events
    /// in one turn and commits them together). At low load every event goes at once, alone. Default 2; 0 = no
    /// coalescing, every event its own call.
    /// </summary>
    [Range(0, 1024)]
    public int CallsInFlight { get; set; } = 2;

    /// <summary>Most events in one coalesced call. Default 100.</summary>
    [Range(1, 10_000)]
    public int BatchMaxEvents { get; set; } = 100;

    /// <summary>Most payload bytes in one coalesced call; an event larger than this goes alone. Default 1 MiB.</summary>
    [Range(1, Contracts.FabricMessaging.MaxEventBytes)]
    public long BatchMaxBytes { get; set; } = 1024 * 1024;
}
