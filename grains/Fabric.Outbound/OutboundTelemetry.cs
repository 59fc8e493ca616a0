using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Fabric.Outbound;

/// <summary>Outbound delivery's ActivitySource and Meter (<c>Fabric.Outbound</c>).</summary>
public static class OutboundTelemetry
{
    public const string Name = "Fabric.Outbound";

    /// <summary>
    /// One attempt at an endpoint (the module's call and the POST, whose HttpClient span is its child). The first is a
    /// child of the event's ingest span, carried in the envelope; retries and resends are linked to it instead.
    /// </summary>
    public const string AttemptSpan = "fabric.outbound.attempt";

    /// <summary>The endpoint's Wasm module on one event, under the attempt.</summary>
    public const string WasmSpan = "fabric.wasm";

    public const string CustomerTag = "fabric.customer";
    public const string EndpointTag = "fabric.endpoint";
    public const string SeqTag = "fabric.seq";
    public const string AttemptTag = "fabric.attempt";
    public const string ReasonTag = "fabric.reason";
    public const string OutcomeTag = "fabric.outcome";
    public const string StageTag = "fabric.wasm.stage";

    internal static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Attempts = Meter.CreateCounter<long>("fabric.outbound.attempts", description: "POSTs to endpoints, by outcome (success, failure, throttled, gone, timeout, connect, blocked-address, dns, io).");
    internal static readonly Counter<long> Delivered = Meter.CreateCounter<long>("fabric.outbound.delivered", description: "Messages an endpoint acknowledged with a 2xx.");
    internal static readonly Counter<long> Failed = Meter.CreateCounter<long>("fabric.outbound.failed", description: "Messages failed for good (schedule exhausted, expired from the log, lost).");
    internal static readonly Counter<long> Disabled = Meter.CreateCounter<long>("fabric.outbound.disabled", description: "Endpoints disabled (410 Gone, or failing for Fabric:Outbound:DisableAfter).");
    internal static readonly Histogram<long> Lag = Meter.CreateHistogram<long>("fabric.outbound.lag", unit: "{event}",
        description: "At each delivery, how many events the customer's log holds past the one delivered: how far the endpoint trails.",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [0, 1, 10, 100, 1000, 10000, 100000] });
    internal static readonly Histogram<double> Latency = Meter.CreateHistogram<double>("fabric.outbound.latency", unit: "ms", description: "From an event's acceptance to the endpoint's 2xx.");
}
