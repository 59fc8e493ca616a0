using Fabric.Rules.Outbound;
using Fabric.Contracts.Endpoints;

namespace Fabric.Outbound.Endpoints;

/// <summary>
/// An endpoint grain's persisted state: its configuration, its cursor into the customer's log, the messages it has
/// taken and not settled, and the failed ones it keeps for the attempt log and recovery. Saved at most once per
/// <see cref="OutboundOptions.SaveInterval"/> while delivering (a write per delivery would cost more than the delivery),
/// and at once when the configuration changes or the endpoint is disabled. The delivered
/// ones are in <see cref="EndpointHistory"/>, saved less often.
/// </summary>
[GenerateSerializer, Alias("fabric.endpoint-state")]
internal sealed class EndpointState
{
    [Id(0)] public EndpointRecord? Config { get; set; }

    /// <summary>Every seq up to here is settled: delivered, failed, or not of the endpoint's topics.</summary>
    [Id(1)] public long Cursor { get; set; }

    /// <summary>The highest seq taken from the log (at or after <see cref="Cursor"/>).</summary>
    [Id(2)] public long ReadThrough { get; set; }

    /// <summary>The log epoch the positions belong to.</summary>
    [Id(3)] public string? Epoch { get; set; }

    /// <summary>Taken, not settled: being attempted or waiting for the next attempt.</summary>
    [Id(4)] public List<Message> Open { get; set; } = [];

    /// <summary>Settled messages attempted once more (a retry or a recovery).</summary>
    [Id(5)] public List<Message> Manual { get; set; } = [];

    /// <summary>Delivered messages as state written before <see cref="EndpointHistory"/> kept them; moved there on activation.</summary>
    [Id(6)] public List<Message> Delivered { get; set; } = [];

    /// <summary>Failed for good, oldest first, at most <see cref="OutboundOptions.KeepFailed"/>.</summary>
    [Id(7)] public List<Message> Failed { get; set; } = [];

    /// <summary>When the current run of failures began; cleared by any success.</summary>
    [Id(8)] public DateTimeOffset? FailingSince { get; set; }

    [Id(9)] public RecoveryView? Recovery { get; set; }
}

/// <summary>One event as this endpoint delivers it.</summary>
[GenerateSerializer, Alias("fabric.endpoint-message")]
internal sealed class Message
{
    [Id(0)] public string? EventId { get; set; }

    [Id(1)] public long Seq { get; set; }

    [Id(2)] public List<AttemptView> Attempts { get; set; } = [];

    /// <summary>When the next attempt is due.</summary>
    [Id(3)] public DateTimeOffset? Due { get; set; }

    /// <summary>Why it failed when no attempt says: <c>expired</c> (trimmed before delivery), <c>lost</c> (the log lost it).</summary>
    [Id(4)] public string? Reason { get; set; }

    /// <summary>For a range the log no longer held, its last seq.</summary>
    [Id(5)] public long? LastSeq { get; set; }

    /// <summary>Part of the running recovery.</summary>
    [Id(6)] public bool Recovering { get; set; }

    /// <summary>When it settled (delivered or failed).</summary>
    [Id(7)] public DateTimeOffset? Settled { get; set; }

    /// <summary>An attempt is on its way (not kept: after a reactivation nothing is in flight).</summary>
    [NonSerialized]
    public bool InFlight;

    public MessageView View(MessageStatus status) => new(EventId, Seq, status, [.. Attempts], status == MessageStatus.Pending ? Due : null, Reason, LastSeq);
}

/// <summary>
/// An endpoint's configuration, with every default resolved at creation. Concrete collection types on purpose: Redis
/// grain storage writes JSON with each value's runtime type, and a compiler-made read-only list does not read back.
/// </summary>
[GenerateSerializer, Immutable, Alias("fabric.endpoint-record")]
internal sealed record EndpointRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] string Url,
    [property: Id(2)] List<string> Topics,
    [property: Id(3)] string? Description,
    [property: Id(4)] bool Enabled,
    [property: Id(5)] bool Ordered,
    [property: Id(6)] int? RateLimitPerSecond,
    [property: Id(7)] int MaxConcurrency,
    [property: Id(8)] Dictionary<string, string> Headers,
    [property: Id(9)] List<TimeSpan> RetrySchedule,
    [property: Id(10)] TimeSpan Timeout,
    [property: Id(11)] List<EndpointSecret> Secrets,
    [property: Id(12)] DateTimeOffset Created,
    [property: Id(13)] DateTimeOffset Updated,
    [property: Id(14)] string? DisabledReason);

/// <summary>A signing secret, encrypted with Data Protection; <paramref name="Until"/> set once a newer one replaced it.</summary>
[GenerateSerializer, Immutable, Alias("fabric.endpoint-secret")]
internal sealed record EndpointSecret(
    [property: Id(0)] string Protected,
    [property: Id(1)] DateTimeOffset Created,
    [property: Id(2)] DateTimeOffset? Until);

/// <summary>
/// The delivered messages an endpoint keeps for its attempt log and a resend by event id: oldest first, at most
/// <see cref="OutboundOptions.KeepDelivered"/>. Saved at most once per <see cref="OutboundOptions.HistorySaveInterval"/>
/// and when the activation ends, apart from the delivery state: rewriting a thousand delivered messages with every
/// cursor save was the largest write and allocation of a busy endpoint. A crash loses at most that interval of this
/// record; what was delivered stays delivered.
/// </summary>
[GenerateSerializer, Alias("fabric.endpoint-history")]
internal sealed class EndpointHistory
{
    [Id(0)] public List<Message> Delivered { get; set; } = [];
}
