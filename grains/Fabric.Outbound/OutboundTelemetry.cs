using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Fabric.Outbound;

/// <summary>Outbound delivery's ActivitySource and Meter (<c>Fabric.Outbound</c>).</summary>
public static class OutboundTelemetry
{
    public const string Name = "Fabric.Outbound";

    /// <summary>One POST to an endpoint; its parent is the ingest trace of the event, carried in the envelope.</summary>
    public const string AttemptSpan = "fabric.outbound.attempt";

    internal static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Attempts = Meter.CreateCounter<long>("fabric.outbound.attempts", description: "POSTs to endpoints, by outcome (success, failure, throttled, gone, timeout, connect, blocked-address, dns, io).");
    internal static readonly Counter<long> Delivered = Meter.CreateCounter<long>("fabric.outbound.delivered", description: "Messages an endpoint acknowledged with a 2xx.");
    internal static readonly Counter<long> Failed = Meter.CreateCounter<long>("fabric.outbound.failed", description: "Messages failed for good (schedule exhausted, expired from the log, lost).");
    internal static readonly Counter<long> Disabled = Meter.CreateCounter<long>("fabric.outbound.disabled", description: "Endpoints disabled (410 Gone, or failing for Fabric:Outbound:DisableAfter).");
    internal static readonly Histogram<double> Latency = Meter.CreateHistogram<double>("fabric.outbound.latency", unit: "ms", description: "From an event's acceptance to the endpoint's 2xx.");
}
