using Fabric.Contracts.Endpoints;
using Fabric.Rules.Outbound;

namespace Fabric.Outbound.Endpoints;

/// <summary>An endpoint's configuration made from the admin API's settings, changed by them, and shown back.</summary>
internal static class EndpointRecords
{
    /// <summary>A new endpoint's record, with every default resolved now.</summary>
    public static EndpointRecord Create(string id, EndpointSettings settings, string protectedSecret, OutboundOptions options, DateTimeOffset now) => new(
        id,
        settings.Url ?? throw new ArgumentException("An endpoint needs a URL.", nameof(settings)),
        settings.Topics is { Count: > 0 } topics ? [.. topics] : ["*"],
        settings.Description,
        settings.Enabled ?? true,
        settings.Ordered ?? false,
        settings.RateLimitPerSecond,
        settings.MaxConcurrency ?? options.MaxConcurrency,
        settings.Headers is { } headers ? new Dictionary<string, string>(headers, StringComparer.OrdinalIgnoreCase) : [],
        settings.RetrySchedule is { Count: > 0 } schedule ? [.. schedule] : [.. options.Schedule],
        settings.Timeout ?? options.Timeout,
        [new EndpointSecret(protectedSecret, now, null)],
        now,
        now,
        null);

    /// <summary>The record with <paramref name="changes"/> applied; a re-enable forgives the failures that disabled it.</summary>
    public static EndpointRecord With(this EndpointRecord config, EndpointSettings changes, DateTimeOffset now) => config with
    {
        Url = changes.Url ?? config.Url,
        Topics = changes.Topics is { Count: > 0 } topics ? [.. topics] : config.Topics,
        Description = changes.Description ?? config.Description,
        Enabled = changes.Enabled ?? config.Enabled,
        Ordered = changes.Ordered ?? config.Ordered,
        RateLimitPerSecond = changes.ClearRateLimit ? null : changes.RateLimitPerSecond ?? config.RateLimitPerSecond,
        MaxConcurrency = changes.MaxConcurrency ?? config.MaxConcurrency,
        Headers = changes.Headers is { } headers ? new Dictionary<string, string>(headers, StringComparer.OrdinalIgnoreCase) : config.Headers,
        RetrySchedule = changes.RetrySchedule is { Count: > 0 } schedule ? [.. schedule] : config.RetrySchedule,
        Timeout = changes.Timeout ?? config.Timeout,
        Updated = now,
        DisabledReason = changes.Enabled == true && !config.Enabled ? null : config.DisabledReason,
    };

    /// <summary>The old secrets sign until the overlap ends (one already ending sooner keeps its end); expired ones go.</summary>
    public static EndpointRecord Rotated(this EndpointRecord config, string protectedSecret, TimeSpan overlap, DateTimeOffset now)
    {
        var previousUntil = now + overlap;
        var secrets = config.Secrets
            .Where(s => s.Until is null || s.Until > now)
            .Select(s => s with { Until = s.Until is { } until && until < previousUntil ? until : previousUntil })
            .Append(new EndpointSecret(protectedSecret, now, null))
            .ToList();
        return config with { Secrets = secrets, Updated = now };
    }

    public static EndpointView View(this EndpointRecord c, long cursor, int pending, DateTimeOffset? failingSince, DateTimeOffset now) => new(
        c.Id, c.Url, c.Topics, c.Description, c.Enabled, c.Ordered, c.RateLimitPerSecond, c.MaxConcurrency, c.Headers, c.RetrySchedule, c.Timeout,
        c.Created, c.Updated, c.DisabledReason, cursor, pending,
        c.Secrets.Count(s => s.Until is null || s.Until > now), failingSince,
        c.Secrets.Where(s => s.Until > now).Select(s => s.Until).Max());
}
