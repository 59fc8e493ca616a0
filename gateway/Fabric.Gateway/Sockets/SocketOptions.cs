using System.ComponentModel.DataAnnotations;

namespace Fabric.Gateway.Sockets;

/// <summary>Limits and timings of the WebSocket endpoint. Bound from <c>Fabric:Sockets</c>.</summary>
public sealed class SocketOptions
{
    public const string SectionName = "Fabric:Sockets";

    /// <summary>
    /// How long a socket may be silent before the server pings it. Default 25 seconds (as Centrifugo and Socket.IO).
    /// Kept by one wheel of one-second slots for the whole gateway (<c>KeepAliveWheel</c>), so pings leave up to a
    /// second after they are due.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>How long a ping may go unanswered before the socket is dropped. Default 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest client frame; a larger one closes the socket with 1009. Default 65,536 bytes.</summary>
    [Range(256, 16 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Bytes that may wait to be sent to one socket; beyond it the socket's queued events are dropped and it catches up
    /// from the log (replies may take up to twice as much before the client is shed). Default 1 MiB.
    /// </summary>
    [Range(1024, 1024 * 1024 * 1024)]
    public long SendQueueMaxBytes { get; set; } = 1024 * 1024;

    /// <summary>Most topics one socket may hold. Default 128.</summary>
    [Range(1, 100_000)]
    public int MaxTopics { get; set; } = 128;

    /// <summary>Invalid frames tolerated per minute before the socket is closed with 4000. Default 10.</summary>
    [Range(1, 100_000)]
    public int MaxInvalidFramesPerMinute { get; set; } = 10;

    /// <summary>How often the gateway renews its registration with each customer grain it holds sockets for. Default 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a gap in pushed seqs may stand before it is filled from the grain, giving reordered pushes a moment
    /// to arrive by themselves. Default 10 milliseconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan GapFillDelay { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// How long a <c>subscribe</c> waits for this gateway's registration with the customer's grain before the socket is
    /// closed with 1011. Default 10 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RegistrationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the gap filler may keep failing (the grain unreachable, or refusing the read) before the customer's
    /// positioned sockets on this gateway are closed with 4101 instead of waiting in silence. Default 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan GapFillTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The wait after a failed gap-fill read before the next one (fixed: the reads go on until
    /// <see cref="GapFillTimeout"/>). Default 1 second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan GapFillRetry { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest wait between two attempts to register this gateway with a customer's grain (the waits grow from
    /// 100 ms, doubling, to this, with up to 20 % jitter; the attempts go on while the customer has sockets here).
    /// Default 5 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan RegistrationRetryMax { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Bytes of pushed events one customer's feed holds while waiting for a gap to be filled; pushes beyond it are not
    /// kept, and the gap filler reads them from the log instead. Default 8 MiB.
    /// </summary>
    [Range(1024L, 1L << 32)]
    public long PendingMaxBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>
    /// Bytes of <c>event</c> frames one customer's feed keeps serialized while replays run, shared by the replaying sockets.
    /// Default 4 MiB.
    /// </summary>
    [Range(0L, 1L << 32)]
    public long FrameCacheBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>
    /// How long a socket's queued frames may wait without the client taking any before it is closed as a slow consumer
    /// (4100). A socket whose queue overflows is not closed for that: it catches up from the log at its own pace. Default
    /// 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan LagGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the server waits for the client's close frame after sending its own. Default 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Browser origins (<c>scheme://host[:port]</c>) allowed to open sockets, compared case-insensitively with the
    /// request's <c>Origin</c> header; <c>*</c> allows any. A request from another origin is refused with 403 before the
    /// upgrade; a request without <c>Origin</c> (not a browser) is allowed. Default empty: any origin, so that a page
    /// on any site can open a socket with its visitor's browser; list your own sites' origins in production.
    /// </summary>
    [OriginList]
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>
    /// Clock difference tolerated when checking a connection token's <c>exp</c> (and <c>nbf</c>). Default 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan TokenClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the checks before the upgrade (confirming the credential with the registry, admitting the session with
    /// the customer's grain) may take before the request is answered 503. Default 10 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan AuthTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Sockets one customer may hold across all gateways; more are refused with 429 before the upgrade. Default 100,000.</summary>
    [Range(1, 100_000_000)]
    public int MaxConnectionsPerCustomer { get; set; } = 100_000;

    /// <summary>Sockets this gateway holds at once (all customers); more are refused with 429 before the upgrade. Default 100,000.</summary>
    [Range(1, 100_000_000)]
    public int MaxConnections { get; set; } = 100_000;

    /// <summary>New sockets this gateway accepts per second (a token bucket); more are refused with 429. Default 1,000; 0 = no limit.</summary>
    [Range(0, 10_000_000)]
    public int NewConnectionsPerSecond { get; set; } = 1_000;

    /// <summary>New sockets accepted at once above that rate (after a gateway restart, its clients come back together). Default 2,000.</summary>
    [Range(1, 10_000_000)]
    public int NewConnectionBurst { get; set; } = 2_000;

    /// <summary>
    /// Frames one socket may send per second, sustained (a token bucket per socket); a client over it gets an
    /// <c>error</c> <c>rate_limited</c> and the socket is closed with 4008. Default 50.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MessagesPerSecond { get; set; } = 50;

    /// <summary>Frames a quiet socket may send at once above that rate. Default 100.</summary>
    [Range(1, 1_000_000)]
    public int MessageBurst { get; set; } = 100;

    /// <summary>Largest <c>data</c> of a <c>publish</c>, as JSON bytes; a larger one gets <c>error</c> <c>payload_too_large</c>. Default 32,768.</summary>
    [Range(16, 16 * 1024 * 1024)]
    public int MaxPublishBytes { get; set; } = 32 * 1024;

    /// <summary>
    /// On shutdown, the time over which the gateway closes its sockets with 4200 (reconnect elsewhere now and resume),
    /// in batches every <see cref="DrainBatchInterval"/>, so its clients do not all reconnect in the same millisecond.
    /// Keep it plus <see cref="CloseTimeout"/> under the host's shutdown timeout (30 s). Default 10 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan DrainWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time between two drain batches. Default 100 milliseconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan DrainBatchInterval { get; set; } = TimeSpan.FromMilliseconds(100);
}
