using System.ComponentModel.DataAnnotations;
using Fabric.Contracts;

namespace Fabric.Grains.Customers;

/// <summary>Per-customer limits the customer grain enforces. Bound from <c>Fabric:Customers</c>.</summary>
public sealed class CustomerOptions
{
    public const string SectionName = "Fabric:Customers";

    /// <summary>Most events kept per customer for history and resume. Default 10,000.</summary>
    [Range(1, 10_000_000)]
    public int RetentionMaxEvents { get; set; } = 10_000;

    /// <summary>
    /// Most bytes kept per customer (payloads plus a 256-byte allowance per event). Default 64 MiB. The log is trimmed
    /// in whole log writes, so it may hold up to one write (<see cref="AppendBatchMaxBytes"/>) more for a moment.
    /// </summary>
    [Range(1024L, 1L << 40)]
    public long RetentionMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Oldest an event may be and still be kept. Default 24 hours.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan RetentionMaxAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long a repeated idempotency key returns the first event instead of a new one. Default 72 hours: Stripe
    /// retries a delivery for three days. Keys are kept by the log beside the events (not rebuilt from them), so the
    /// window outlives event retention, reactivation and, in distributed mode, the loss of a silo.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(72);

    /// <summary>
    /// Most idempotency keys remembered per customer; the oldest go first. Default 100,000 — about 15 MB of grain
    /// memory for a customer at the bound (≈ 150 bytes a key, whatever its length: the grain keeps a hash of it), and
    /// about 30 MB in Redis, which keeps the keys themselves.
    /// A customer sending more keys than that within the window is de-duplicated over its newest 100,000.
    /// </summary>
    [Range(1, 10_000_000)]
    public int IdempotencyMaxKeys { get; set; } = 100_000;

    /// <summary>
    /// A gateway observer not renewed for this long is dropped. Default 90 seconds: three missed 30-second renewals.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")]
    public TimeSpan ObserverExpiry { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Most events in one log write (group commit: appends that arrive while a write is in flight share the next
    /// one). Default 512.
    /// </summary>
    [Range(1, 100_000)]
    public int AppendBatchMax { get; set; } = 512;

    /// <summary>
    /// Most log writes of one customer in flight at once (pipelined group commit: the next batch is sent while the one
    /// before it is on its way; the log keeps them in order and refuses one whose predecessor did not land). 1 = one
    /// write at a time. Default 2.
    /// </summary>
    [Range(1, 8)]
    public int AppendPipelineDepth { get; set; } = 2;

    /// <summary>
    /// Most bytes in one log write (past its first event; one <c>AppendBatch</c> call is never split). Default 4 MiB.
    /// </summary>
    [Range(1024, FabricMessaging.MaxPayloadBytes)]
    public long AppendBatchMaxBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Most events in one push to a gateway. Default 256.</summary>
    [Range(1, 100_000)]
    public int PushBatchMax { get; set; } = 256;

    /// <summary>Most bytes in one push to a gateway (past its first event). Default 1 MiB.</summary>
    [Range(1024, FabricMessaging.MaxPayloadBytes)]
    public long PushBatchMaxBytes { get; set; } = 1024 * 1024;

    /// <summary>Most events one <c>GetSince</c> call returns (history pages, socket replays, gap fills). Default 1,000.</summary>
    [Range(1, 100_000)]
    public int PageMax { get; set; } = 1_000;

    /// <summary>Most bytes one <c>GetSince</c> call returns (past its first event). Default 4 MiB.</summary>
    [Range(1024, FabricMessaging.MaxPayloadBytes)]
    public long PageMaxBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// How often a reminder trims the log of a customer that has gone quiet, so age-based retention holds without new
    /// events (a busy log is trimmed as it is written). Default 1 hour; Orleans reminders fire at most once a minute.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan RetentionSweepInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Whether each event is also published on the customer's Orleans stream. Default true: published while some grain
    /// type in the cluster subscribes to it implicitly (<c>[ImplicitStreamSubscription(FabricStreams.CustomerEvents)]</c>),
    /// and not at all while none does, since nobody would read it (<see cref="StreamConsumers"/>). The stream is a best-effort
    /// live feed: in seq order, from the activation that accepted the event; not replayed after a deactivation or a
    /// silo loss, and events beyond <see cref="StreamBacklogMax"/> waiting to be published are dropped (counted in
    /// <c>fabric.stream.dropped</c> and logged). A consumer that must see every event reads the log with a cursor
    /// (<c>ICustomerGrain.GetSince</c>), as the sockets do.
    /// </summary>
    public bool PublishToStream { get; set; } = true;

    /// <summary>
    /// Most events an outbound endpoint that lags may hold back from the trim (counted from its cursor to the log's end).
    /// Default 100,000. Past it, retention goes on and the endpoint marks the events it lost as failed (reason
    /// <c>expired</c>). See docs/outbound.md.
    /// </summary>
    [Range(1, 10_000_000)]
    public int EndpointHoldMaxEvents { get; set; } = 100_000;

    /// <summary>Most bytes kept while an endpoint lags (instead of <see cref="RetentionMaxBytes"/>). Default 256 MiB.</summary>
    [Range(1024L, 1L << 40)]
    public long EndpointHoldMaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Oldest an event may be and still be held for a lagging endpoint. Default 72 hours: longer than the default retry
    /// schedule (about 27.6 hours), so a failing endpoint's pending events stay until their last attempt.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan EndpointHoldMaxAge { get; set; } = TimeSpan.FromHours(72);

    /// <summary>
    /// How often an endpoint that has not reported the log's end is told of it again (a lost one-way notice after a silo
    /// failure would otherwise wait for the next append), up to four times after each append. Default 15 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan EndpointNoticeInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Most events waiting to be published on the stream; the oldest go beyond it. Default 10,000.</summary>
    [Range(1, 1_000_000)]
    public int StreamBacklogMax { get; set; } = 10_000;

    /// <summary>
    /// How long the stream provider keeps a published event in its cache for consumers still reading it. Default 1
    /// minute (Orleans' own default is 30 minutes, which at 100 events a second holds about 300 MB in the silo). A
    /// consumer that falls further behind than this misses events, as the stream's best-effort contract allows.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan StreamCacheMaxAge { get; set; } = TimeSpan.FromMinutes(1);
}
