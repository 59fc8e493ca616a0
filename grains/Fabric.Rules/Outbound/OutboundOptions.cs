using System.ComponentModel.DataAnnotations;

namespace Fabric.Rules.Outbound;

/// <summary>How outbound webhooks are delivered. Bound from <c>Fabric:Outbound</c>; each default is in docs/outbound.md.</summary>
public sealed class OutboundOptions
{
    public const string SectionName = "Fabric:Outbound";

    /// <summary>
    /// Hosts, addresses and CIDR ranges exempt from the egress block (private, loopback, link-local and metadata
    /// addresses are refused otherwise, at registration and again at connect time). Default none.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Refuse endpoint URLs that are not https. Default false.</summary>
    public bool HttpsOnly { get; set; }

    /// <summary>How long one attempt may take, unless the endpoint sets its own. Default 15 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Waits between attempts after the first (which is at once), unless the endpoint sets its own. Default 5 s, 5 min,
    /// 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about 27.6 hours, as Svix.
    /// </summary>
    public List<TimeSpan> RetrySchedule { get; set; } = [];

    /// <summary>The schedule when none is configured.</summary>
    public static readonly IReadOnlyList<TimeSpan> DefaultRetrySchedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    /// <summary>The retry schedule in effect.</summary>
    public IReadOnlyList<TimeSpan> Schedule => RetrySchedule.Count > 0 ? RetrySchedule : DefaultRetrySchedule;

    /// <summary>
    /// Each wait is lengthened by a random share of itself up to this (never shortened), so endpoints that failed
    /// together do not retry together. Default 0.2.
    /// </summary>
    [Range(0.0, 1.0)]
    public double RetryJitter { get; set; } = 0.2;

    /// <summary>Longest <c>Retry-After</c> honoured; a longer one is cut to this. Default 1 hour.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>An endpoint whose every attempt failed for this long is disabled. Default 5 days.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromDays(5);

    /// <summary>Attempts in flight at once per endpoint, unless it sets its own (unordered mode). Default 10.</summary>
    [Range(1, 1000)]
    public int MaxConcurrency { get; set; } = 10;

    /// <summary>
    /// Most messages an endpoint holds undelivered (in flight or waiting for a retry); past it, it reads no further in
    /// the log until some settle (the log holds them back). Default 10,000.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxPendingMessages { get; set; } = 10_000;

    /// <summary>
    /// Delivered messages kept per endpoint with their attempts, newest first (an eighth more between trims). Saved
    /// apart from the delivery state, every <see cref="HistorySaveInterval"/>. Default 1,000.
    /// </summary>
    [Range(0, 100_000)]
    public int KeepDelivered { get; set; } = 1_000;

    /// <summary>
    /// Failed messages kept per endpoint with their attempts, for replay; the oldest go first. Default 1,000: the
    /// attempt log lives in the endpoint's grain state, which is written whole (about 4 MB at the bounds). An eighth
    /// more is kept between trims.
    /// </summary>
    [Range(1, 1_000_000)]
    public int KeepFailed { get; set; } = 1_000;

    /// <summary>Bytes of each response body kept in the attempt log (the rest is not read). Default 512.</summary>
    [Range(0, 65_536)]
    public int ResponseExcerptBytes { get; set; } = 512;

    /// <summary>How long the secret before a rotation keeps signing beside the new one. Default 24 hours.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan SecretOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How often an endpoint saves its cursor, pending messages and failed messages while delivering (configuration
    /// changes are saved at once). A crash re-delivers, or re-attempts sooner than scheduled, at most this much of its
    /// work: delivery is at-least-once. Default 1 second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan SaveInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often an endpoint saves its record of delivered messages (<see cref="KeepDelivered"/>) while delivering; it
    /// is saved too when the activation ends. A crash loses at most this much of that record, never a delivery.
    /// Default 10 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan HistorySaveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// After an endpoint's delivery loop failed (a log read or a save: a silo or Redis away), the wait before it runs
    /// again; nothing settled is lost meanwhile. Default 1 second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00")]
    public TimeSpan LoopRetry { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// After an attempt failed on Fabric's side rather than the receiver's (its event could not be read), the wait
    /// before the message is attempted again; it does not count as an attempt. Default 5 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ErrorRetry { get; set; } = TimeSpan.FromSeconds(5);
}
