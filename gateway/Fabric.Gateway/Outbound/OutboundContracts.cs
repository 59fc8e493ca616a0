namespace Fabric.Gateway.Outbound;

/// <summary>
/// <c>POST …/endpoints</c> and <c>PATCH …/endpoints/{id}</c> body; on a PATCH, what is left out stays as it is
/// (<c>"rateLimitPerSecond": 0</c> removes the limit). Waits and timeouts are TimeSpans (<c>"00:00:05"</c>).
/// </summary>
public sealed record EndpointRequest(
    string? Url,
    IReadOnlyList<string>? Topics,
    string? Description,
    bool? Enabled,
    bool? Ordered,
    int? RateLimitPerSecond,
    int? MaxConcurrency,
    IReadOnlyDictionary<string, string>? Headers,
    IReadOnlyList<TimeSpan>? RetrySchedule,
    TimeSpan? Timeout,
    long? FromSeq);

/// <summary>An endpoint as the admin API shows it; <c>secret</c> only in the answer that created or rotated it.</summary>
public sealed record EndpointResponse(
    string Id,
    string Url,
    IReadOnlyList<string> Topics,
    string? Description,
    bool Enabled,
    bool Ordered,
    int? RateLimitPerSecond,
    int MaxConcurrency,
    IReadOnlyDictionary<string, string> Headers,
    IReadOnlyList<TimeSpan> RetrySchedule,
    TimeSpan Timeout,
    DateTimeOffset Created,
    DateTimeOffset Updated,
    string? DisabledReason,
    DateTimeOffset? FailingSince,
    long Cursor,
    int Pending,
    int ActiveSecrets,
    string? Secret = null,
    DateTimeOffset? PreviousSecretUntil = null);

/// <summary><c>GET …/endpoints</c>.</summary>
public sealed record EndpointList(IReadOnlyList<EndpointResponse> Endpoints);

/// <summary><c>POST …/endpoints/{id}/secret/rotate</c> body (optional): how long the old secret keeps signing.</summary>
public sealed record RotateRequest(TimeSpan? Overlap);

/// <summary><c>GET …/endpoints/{id}/messages</c>.</summary>
public sealed record MessageList(IReadOnlyList<MessageResponse> Messages);

/// <summary>One message of the attempt log.</summary>
public sealed record MessageResponse(
    string? EventId, long Seq, string Status, IReadOnlyList<AttemptResponse> Attempts, DateTimeOffset? NextAttempt, string? Reason, long? LastSeq);

/// <summary>One attempt: when, how long, the status (null without a response), a bounded excerpt of the body, or the error.</summary>
public sealed record AttemptResponse(DateTimeOffset Time, double DurationMs, int? ResponseStatus, string? Response, string? Error);

/// <summary><c>POST …/endpoints/{id}/recover</c> body.</summary>
public sealed record RecoverRequest(DateTimeOffset? Since);

/// <summary>A recovery's progress (<c>status</c> running or done).</summary>
public sealed record RecoveryResponse(string Status, DateTimeOffset Since, DateTimeOffset Started, int Total, int Done, int Delivered, int Failed, DateTimeOffset? Finished);

/// <summary><c>POST …/messages/{eventId}/retry</c> answer.</summary>
public sealed record RetryResponse(string EventId, string Status);
