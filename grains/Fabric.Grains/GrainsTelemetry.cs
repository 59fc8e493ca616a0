using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Fabric.Grains;

/// <summary>The grains' ActivitySource and Meter, one name each, so operators can subscribe to them.</summary>
public static class GrainsTelemetry
{
    public const string Name = "Fabric.Grains";
    public const string AppendSpan = "fabric.grain.append";

    /// <summary>One push of a batch of events to the customer's gateways, in the trace of its first event, linked to the others'.</summary>
    public const string PushSpan = "fabric.grain.push";

    /// <summary>A customer's Wasm module on one event, at ingest (in the grain's append) or outbound (before an attempt).</summary>
    public const string WasmSpan = "fabric.wasm";

    public const string CustomerTag = "fabric.customer";
    public const string EventsTag = "fabric.events";
    public const string StageTag = "fabric.wasm.stage";
    public const string OutcomeTag = "fabric.outcome";

    internal static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Appended = Meter.CreateCounter<long>("fabric.events.appended", description: "Events accepted and kept.");
    internal static readonly Counter<long> Duplicates = Meter.CreateCounter<long>("fabric.events.duplicates", description: "Appends answered from the idempotency window.");
    internal static readonly Counter<long> Pushes = Meter.CreateCounter<long>("fabric.pushes", description: "Event batches pushed to gateway observers.");
    internal static readonly Counter<long> StreamDropped = Meter.CreateCounter<long>("fabric.stream.dropped", description: "Events not published on the customer's Orleans stream (backlog full, or the publish failed).");
    internal static readonly Counter<long> EpochForks = Meter.CreateCounter<long>("fabric.log.epoch_forks", description: "Customer logs found behind seqs they had handed out and forked to a new epoch.");
    internal static readonly Histogram<double> AppendLatency = Meter.CreateHistogram<double>("fabric.log.append_latency", unit: "ms",
        description: "One log write (a group commit of one customer's events): a Redis round trip in distributed mode.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000] });
    internal static readonly Histogram<int> AppendBatch = Meter.CreateHistogram<int>("fabric.log.append_batch", unit: "{event}", description: "Events per log write (group commit).");
}
