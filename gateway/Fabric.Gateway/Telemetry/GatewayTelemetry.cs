using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Fabric.Gateway.Telemetry;

/// <summary>The gateway's ActivitySource and Meter, with the span and tag names operators query by.</summary>
internal static class GatewayTelemetry
{
    public const string Name = "Fabric.Gateway";

    /// <summary>From request to the grain's acknowledgement.</summary>
    public const string IngestSpan = "fabric.ingest";

    /// <summary>The webhook's signature check, by scheme.</summary>
    public const string VerifySpan = "fabric.verify";

    /// <summary>
    /// One per event per gateway: the hand-off to that gateway's matching sockets (a delivery batch), with their count.
    /// A child of the grain's push span when the push brought it, of the ingest span otherwise; a root linked to the
    /// ingest trace when a gap fill read it from the log.
    /// </summary>
    public const string DeliverSpan = "fabric.deliver";

    /// <summary>One socket's write of one event, under its delivery batch; only for <c>Fabric:Telemetry:DebugCustomers</c>.</summary>
    public const string SocketWriteSpan = "fabric.socket.write";

    /// <summary>One page of history queued to one socket (a resume, or a lagging socket catching up), linked to each event's ingest trace.</summary>
    public const string ReplaySpan = "fabric.replay";

    public const string CustomerTag = "fabric.customer";
    public const string SourceTag = "fabric.source";
    public const string SeqTag = "fabric.seq";
    public const string EventIdTag = "fabric.event_id";
    public const string SocketsTag = "fabric.sockets";
    public const string SchemeTag = "fabric.scheme";
    public const string OutcomeTag = "fabric.outcome";
    public const string ReasonTag = "fabric.reason";
    public const string SessionTag = "fabric.session";
    public const string EventsTag = "fabric.events";

    public static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    // The send queues of this process's gateways (one, except in tests), held weakly by their owners: the gauge sums
    // them at each collection instead of keeping a shared total that every queued frame would have to update.
    private static readonly ConditionalWeakTable<object, Func<long>> SendQueues = [];

    public static readonly ObservableGauge<long> SendQueueBytes = Meter.CreateObservableGauge("fabric.gateway.send_queue_bytes",
        () => SendQueues.Sum(q => q.Value()), unit: "By", description: "Bytes queued to sockets and not yet written, all sockets of this gateway.");

    public static readonly Counter<long> Ingested = Meter.CreateCounter<long>("fabric.gateway.ingested", description: "Events acknowledged to producers.");
    public static readonly Counter<long> Rejected = Meter.CreateCounter<long>("fabric.gateway.rejected", description: "Events refused, by surface (webhook, api, socket) and reason (the problem type or socket error code).");
    public static readonly Histogram<long> Coalesced = Meter.CreateHistogram<long>("fabric.gateway.coalesced", unit: "{event}",
        description: "Events per coalesced append call: single events that waited for a busy customer's calls and went to its grain together.",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [2, 4, 8, 16, 32, 64, 128] });
    public static readonly Counter<long> Dropped = Meter.CreateCounter<long>("fabric.gateway.dropped", description: "Events a source's Wasm transform dropped (answered 202 dropped, nothing stored).");
    public static readonly Counter<long> SignatureFailures = Meter.CreateCounter<long>("fabric.gateway.signature_failures", description: "Webhooks whose signature check failed, by scheme and reason.");
    public static readonly Counter<long> Deliveries = Meter.CreateCounter<long>("fabric.gateway.deliveries", description: "Event frames queued to sockets.");
    public static readonly Counter<long> GapFills = Meter.CreateCounter<long>("fabric.gateway.gap_fills", description: "History reads made to fill a gap in pushes.");
    public static readonly Counter<long> KeepAliveTimeouts = Meter.CreateCounter<long>("fabric.gateway.keepalive_timeouts", description: "Sockets aborted because the client answered no ping for the keep-alive timeout.");

    public static readonly Counter<long> SlowConsumers = Meter.CreateCounter<long>("fabric.gateway.slow_consumers", description: "Sockets closed because their client took nothing for the lag grace period.");
    public static readonly Counter<long> LagEpisodes = Meter.CreateCounter<long>("fabric.gateway.lag_episodes", description: "Times a socket's send queue overflowed and it went to catch up from the log instead of being closed.");
    public static readonly UpDownCounter<long> ActiveSockets = Meter.CreateUpDownCounter<long>("fabric.gateway.sockets", description: "Open sockets (each one session).");
    public static readonly Counter<long> Closes = Meter.CreateCounter<long>("fabric.gateway.closes", description: "Sockets ended, by the close code Fabric sent (1000 normal, 4100 slow consumer, 4101 resync, 4200 drain, …).");
    public static readonly Counter<long> Recoveries = Meter.CreateCounter<long>("fabric.gateway.recoveries", description: "Resumes with since, by whether history covered the gap (recovered true/false).");
    public static readonly Histogram<double> EndToEnd = Meter.CreateHistogram<double>("fabric.gateway.e2e_latency", unit: "ms",
        description: "From the grain's acceptance of an event to its frame written to a socket, live pushes only (one measure per push released to this gateway's sockets: its first event, at the first socket that writes it).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] });

    /// <summary>Counts <paramref name="queuedBytes"/> into <see cref="SendQueueBytes"/> for as long as <paramref name="owner"/> lives.</summary>
    public static void ObserveSendQueue(object owner, Func<long> queuedBytes) => SendQueues.AddOrUpdate(owner, queuedBytes);
}
