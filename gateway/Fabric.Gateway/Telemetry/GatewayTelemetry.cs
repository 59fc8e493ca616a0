using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Fabric.Gateway.Telemetry;

/// <summary>The gateway's ActivitySource and Meter, with the span and tag names operators query by.</summary>
internal static class GatewayTelemetry
{
    public const string Name = "Fabric.Gateway";

    /// <summary>From request to the grain's acknowledgement.</summary>
    public const string IngestSpan = "fabric.ingest";

    /// <summary>One per event per gateway: the hand-off to that gateway's matching sockets.</summary>
    public const string DeliverSpan = "fabric.deliver";

    public const string CustomerTag = "fabric.customer";
    public const string SourceTag = "fabric.source";
    public const string SeqTag = "fabric.seq";
    public const string EventIdTag = "fabric.event_id";
    public const string SocketsTag = "fabric.sockets";

    public static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Ingested = Meter.CreateCounter<long>("fabric.gateway.ingested", description: "Events acknowledged to producers.");
    public static readonly Counter<long> Rejected = Meter.CreateCounter<long>("fabric.gateway.rejected", description: "Webhooks refused before verification, by reason.");
    public static readonly Counter<long> SignatureFailures = Meter.CreateCounter<long>("fabric.gateway.signature_failures", description: "Webhooks whose signature check failed, by scheme and reason.");
    public static readonly Counter<long> Deliveries = Meter.CreateCounter<long>("fabric.gateway.deliveries", description: "Event frames queued to sockets.");
    public static readonly Counter<long> GapFills = Meter.CreateCounter<long>("fabric.gateway.gap_fills", description: "History reads made to fill a gap in pushes.");
    public static readonly Counter<long> KeepAliveTimeouts = Meter.CreateCounter<long>("fabric.gateway.keepalive_timeouts", description: "Sockets aborted because the client answered no ping for the keep-alive timeout.");

    public static readonly Counter<long> SlowConsumers = Meter.CreateCounter<long>("fabric.gateway.slow_consumers", description: "Sockets closed because their client took nothing for the lag grace period.");
    public static readonly Counter<long> LagEpisodes = Meter.CreateCounter<long>("fabric.gateway.lag_episodes", description: "Times a socket's send queue overflowed and it went to catch up from the log instead of being closed.");
    public static readonly UpDownCounter<long> ActiveSockets = Meter.CreateUpDownCounter<long>("fabric.gateway.sockets", description: "Open sockets.");
}
