using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Fabric.Grains;

/// <summary>The grains' ActivitySource and Meter, one name each, so operators can subscribe to them.</summary>
public static class GrainsTelemetry
{
    public const string Name = "Fabric.Grains";
    public const string AppendSpan = "fabric.grain.append";

    internal static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Appended = Meter.CreateCounter<long>("fabric.events.appended", description: "Events accepted and kept.");
    internal static readonly Counter<long> Duplicates = Meter.CreateCounter<long>("fabric.events.duplicates", description: "Appends answered from the idempotency window.");
    internal static readonly Counter<long> Pushes = Meter.CreateCounter<long>("fabric.pushes", description: "Event batches pushed to gateway observers.");
    internal static readonly Counter<long> StreamDropped = Meter.CreateCounter<long>("fabric.stream.dropped", description: "Events not published on the customer's Orleans stream (backlog full, or the publish failed).");
    internal static readonly Counter<long> EpochForks = Meter.CreateCounter<long>("fabric.log.epoch_forks", description: "Customer logs found behind seqs they had handed out and forked to a new epoch.");
    internal static readonly Histogram<int> AppendBatch = Meter.CreateHistogram<int>("fabric.log.append_batch", unit: "{event}", description: "Events per log write (group commit).");
}
