namespace Fabric.Contracts.Endpoints;

/// <summary>
/// An endpoint's settings as the admin API takes them; on an update, null means "leave as it is". Defaults (when a
/// created endpoint leaves one out) are in <c>docs/outbound.md</c>.
/// </summary>
/// <param name="Url">Where events are POSTed (http or https; checked against the egress policy).</param>
/// <param name="Topics">Event type patterns, as socket topics (<c>order.*</c>, <c>*</c>).</param>
/// <param name="Description">Free text.</param>
/// <param name="Enabled">Whether it delivers.</param>
/// <param name="Ordered">Strict seq order, one delivery at a time.</param>
/// <param name="RateLimitPerSecond">Most attempts started per second; null = unlimited.</param>
/// <param name="MaxConcurrency">Most attempts in flight at once (unordered mode).</param>
/// <param name="Headers">Extra request headers.</param>
/// <param name="RetrySchedule">Waits between attempts after the first, which is at once.</param>
/// <param name="Timeout">How long one attempt may take.</param>
/// <param name="ClearRateLimit">On an update: remove the rate limit (null alone means "leave it").</param>
[GenerateSerializer, Immutable, Alias("fabric.EndpointSettings")]
public sealed record EndpointSettings(
    [property: Id(0)] string? Url = null,
    [property: Id(1)] IReadOnlyList<string>? Topics = null,
    [property: Id(2)] string? Description = null,
    [property: Id(3)] bool? Enabled = null,
    [property: Id(4)] bool? Ordered = null,
    [property: Id(5)] int? RateLimitPerSecond = null,
    [property: Id(6)] int? MaxConcurrency = null,
    [property: Id(7)] IReadOnlyDictionary<string, string>? Headers = null,
    [property: Id(8)] IReadOnlyList<TimeSpan>? RetrySchedule = null,
    [property: Id(9)] TimeSpan? Timeout = null,
    [property: Id(10)] bool ClearRateLimit = false);

/// <summary>An endpoint as the admin API shows it: its settings, its state, never a secret.</summary>
[GenerateSerializer, Immutable, Alias("fabric.EndpointView")]
public sealed record EndpointView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Url,
    [property: Id(2)] IReadOnlyList<string> Topics,
    [property: Id(3)] string? Description,
    [property: Id(4)] bool Enabled,
    [property: Id(5)] bool Ordered,
    [property: Id(6)] int? RateLimitPerSecond,
    [property: Id(7)] int MaxConcurrency,
    [property: Id(8)] IReadOnlyDictionary<string, string> Headers,
    [property: Id(9)] IReadOnlyList<TimeSpan> RetrySchedule,
    [property: Id(10)] TimeSpan Timeout,
    [property: Id(11)] DateTimeOffset Created,
    [property: Id(12)] DateTimeOffset Updated,
    [property: Id(13)] string? DisabledReason,
    [property: Id(14)] long Cursor,
    [property: Id(15)] int Pending,
    [property: Id(16)] int Secrets,
    [property: Id(17)] DateTimeOffset? FailingSince,
    [property: Id(18)] DateTimeOffset? PreviousSecretUntil = null);

/// <summary>Where a message stands.</summary>
public enum MessageStatus
{
    Pending,
    Delivered,
    Failed,
}

/// <summary>One event as one endpoint delivers it, with every attempt.</summary>
/// <param name="EventId">The event id (the <c>webhook-id</c> header); null for a range the log no longer held.</param>
/// <param name="Seq">The event's seq (for a lost range, its first).</param>
/// <param name="Status">Where it stands.</param>
/// <param name="Attempts">Every attempt, oldest first.</param>
/// <param name="NextAttempt">When the next attempt is due (pending only).</param>
/// <param name="Reason">Why it failed, when no attempt says (expired from the log, lost by the log).</param>
/// <param name="LastSeq">For a lost range, its last seq.</param>
[GenerateSerializer, Immutable, Alias("fabric.MessageView")]
public sealed record MessageView(
    [property: Id(0)] string? EventId,
    [property: Id(1)] long Seq,
    [property: Id(2)] MessageStatus Status,
    [property: Id(3)] IReadOnlyList<AttemptView> Attempts,
    [property: Id(4)] DateTimeOffset? NextAttempt,
    [property: Id(5)] string? Reason,
    [property: Id(6)] long? LastSeq = null);

/// <summary>One POST to the endpoint.</summary>
/// <param name="Time">When it started.</param>
/// <param name="DurationMs">How long until the response (or the failure).</param>
/// <param name="ResponseStatus">The HTTP status, or null when no response came (timeout, refused, blocked).</param>
/// <param name="Response">The start of the response body, bounded (<c>Fabric:Outbound:ResponseExcerptBytes</c>).</param>
/// <param name="Error">What went wrong when there was no response: <c>timeout</c>, <c>connect</c>, <c>blocked-address</c>, <c>io</c>.</param>
[GenerateSerializer, Immutable, Alias("fabric.AttemptView")]
public sealed record AttemptView(
    [property: Id(0)] DateTimeOffset Time,
    [property: Id(1)] double DurationMs,
    [property: Id(2)] int? ResponseStatus,
    [property: Id(3)] string? Response,
    [property: Id(4)] string? Error);

/// <summary>The answer to <see cref="IEndpointGrain.Retry"/>.</summary>
public enum RetryOutcome
{
    /// <summary>Queued for an attempt now.</summary>
    Queued,

    /// <summary>The endpoint has no settled message with that event id.</summary>
    UnknownMessage,

    /// <summary>The customer's log no longer holds the event.</summary>
    Expired,

    /// <summary>The endpoint does not exist.</summary>
    UnknownEndpoint,
}

/// <summary>A recovery's progress.</summary>
[GenerateSerializer, Immutable, Alias("fabric.RecoveryView")]
public sealed record RecoveryView(
    [property: Id(0)] DateTimeOffset Since,
    [property: Id(1)] DateTimeOffset Started,
    [property: Id(2)] int Total,
    [property: Id(3)] int Done,
    [property: Id(4)] int Delivered,
    [property: Id(5)] int Failed,
    [property: Id(6)] DateTimeOffset? Finished);
