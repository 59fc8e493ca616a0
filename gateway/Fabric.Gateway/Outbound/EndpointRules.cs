using Fabric.Contracts;
using Fabric.Gateway.Http;
using Fabric.Rules.Outbound;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Fabric.Gateway.Outbound;

/// <summary>What an endpoint's settings may be; each broken rule is a 400 that names it.</summary>
internal static class EndpointRules
{
    public const int MaxTopics = 100;
    public const int MaxHeaders = 20;
    public const int MaxSchedule = 20;

    // Fabric sets these itself; a customer's header must not replace the signature, the id or the framing.
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length", "host", "traceparent",
        "tracestate", "transfer-encoding", "connection", "user-agent", "expect", "upgrade", "te", "trailer",
    };

    /// <summary>The problem with a request body, or null; <paramref name="creating"/> requires a URL.</summary>
    public static async Task<ProblemHttpResult?> CheckAsync(EndpointRequest body, bool creating, EgressPolicy egress, CancellationToken cancellationToken)
    {
        if (creating && body.Url is null)
        {
            return Problems.BadRequest("invalid-url", "\"url\" is required.");
        }

        if (body.Topics is { } topics && (topics.Count is 0 or > MaxTopics || !topics.All(TopicFilter.IsValidTopic)))
        {
            return Problems.BadRequest("invalid-topics", $"\"topics\" must list 1-{MaxTopics} topics: event types, '*' only at the end.");
        }

        if (body.Description is { Length: > 1000 })
        {
            return Problems.BadRequest("invalid-description", "\"description\" must be at most 1000 characters.");
        }

        if (body.RateLimitPerSecond is < 0 or > 100_000)
        {
            return Problems.BadRequest("invalid-rate-limit", "\"rateLimitPerSecond\" must be 1-100000 (0 removes the limit).");
        }

        if (body.MaxConcurrency is < 1 or > 1000)
        {
            return Problems.BadRequest("invalid-max-concurrency", "\"maxConcurrency\" must be 1-1000.");
        }

        if (body.Headers is { } headers && (headers.Count > MaxHeaders || headers.Any(h => !IsValidHeader(h.Key, h.Value))
            || headers.Keys.Distinct(StringComparer.OrdinalIgnoreCase).Count() != headers.Count))
        {
            return Problems.BadRequest("invalid-headers", $"\"headers\" must hold at most {MaxHeaders} headers of token names and single-line values (at most 1000 characters), none of Fabric's own (webhook-*, content-*, traceparent, user-agent, host).");
        }

        if (body.RetrySchedule is { } schedule && (schedule.Count is 0 or > MaxSchedule || schedule.Any(s => s < TimeSpan.Zero || s > TimeSpan.FromDays(7))))
        {
            return Problems.BadRequest("invalid-retry-schedule", $"\"retrySchedule\" must list 1-{MaxSchedule} waits between 00:00:00 and 7.00:00:00.");
        }

        if (body.Timeout is { } timeout && (timeout < TimeSpan.FromSeconds(1) || timeout > TimeSpan.FromMinutes(5)))
        {
            return Problems.BadRequest("invalid-timeout", "\"timeout\" must be between 00:00:01 and 00:05:00.");
        }

        if (body.FromSeq is < 0 or > InputRules.MaxSeq)
        {
            return Problems.BadRequest("invalid-from-seq", "\"fromSeq\" must be a seq (0 = every retained event).");
        }

        // Last: the only check that may wait (on DNS).
        if (body.Url is not null && await egress.CheckAsync(body.Url, cancellationToken) is { } refused)
        {
            return Problems.BadRequest(refused.Contains("private", StringComparison.Ordinal) ? "blocked-url" : "invalid-url", refused);
        }

        return null;
    }

    private static bool IsValidHeader(string name, string value) =>
        name is { Length: > 0 and <= 100 }
        && name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal))
        && !ReservedHeaders.Contains(name)
        && !name.StartsWith("webhook-", StringComparison.OrdinalIgnoreCase)
        && !name.StartsWith("content-", StringComparison.OrdinalIgnoreCase)
        && value is { Length: <= 1000 }
        && value.All(c => c is >= ' ' and <= '~' or '\t');
}
