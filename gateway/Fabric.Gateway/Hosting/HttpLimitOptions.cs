using System.ComponentModel.DataAnnotations;

namespace Fabric.Gateway.Hosting;

/// <summary>
/// How long an HTTP request may take and how slowly a client may send or read, so a trickling client cannot hold a
/// request (and its buffers) for long: at Kestrel's own floor of 240 B/s a 1 MiB body would take over an hour. A
/// WebSocket is held to them only until its upgrade; its life is governed by <c>Fabric:Sockets</c>. Bound from
/// <c>Fabric:Http</c>.
/// </summary>
public sealed class HttpLimitOptions
{
    public const string SectionName = "Fabric:Http";

    /// <summary>
    /// Longest an HTTP API request (webhooks, publish, history, admin) may take from its headers to its answer; beyond
    /// it the request is answered <c>408 request-timeout</c> and nothing is stored. Default 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Slowest a request body may arrive, after the grace period; a slower one is answered 408 and its connection
    /// closed. Default 4,096 bytes per second (Kestrel's own is 240); 0 = no minimum.
    /// </summary>
    [Range(0, 1024 * 1024 * 1024)]
    public int MinRequestBodyBytesPerSecond { get; set; } = 4096;

    /// <summary>Slowest a client may read a response, after the grace period. Default 4,096 bytes per second (Kestrel's own is 240); 0 = no minimum.</summary>
    [Range(0, 1024 * 1024 * 1024)]
    public int MinResponseBytesPerSecond { get; set; } = 4096;

    /// <summary>
    /// How long a body or a response may stay below its minimum rate before the connection is cut, so a slow start
    /// (TCP slow start, a sender's first flush) is not punished. Default 5 seconds; Kestrel needs more than 1.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:02", "00:10:00")]
    public TimeSpan MinDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest a client may take to send a request's headers. Default 10 seconds (Kestrel's own is 30).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an idle keep-alive connection stays open. Default 130 seconds (Kestrel's own): longer than the usual
    /// load balancer idle timeout (60 s), so the balancer closes idle connections first and never reuses one the gateway
    /// has just closed.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(130);

    /// <summary>
    /// Longest the gateway keeps reading, and dropping, what a client still sends after the gateway has answered and
    /// decided to close the connection (a request refused before its body: headers over the limit, 431). Closing with
    /// unread data makes the kernel reset the connection, and a client that is still writing then sees the reset, not
    /// the answer. The reading stops sooner when the client closes or sends nothing for 1 second. Default 2 seconds;
    /// 0 = close at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:30")]
    public TimeSpan CloseLinger { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Kestrel's <c>UnsafePreferInlineScheduling</c>: a socket write is sent by the code that flushes it, and a read
    /// resumes the code waiting for it, instead of each going through one of Kestrel's I/O queues. About twice the
    /// fan-out deliveries per second (bench fan-out at 1,000 and 10,000 sockets). Default true. It closes a refused
    /// request's connection sooner, while its client may still be sending, which <see cref="CloseLinger"/> makes safe.
    /// </summary>
    public bool InlineScheduling { get; set; } = true;
}
