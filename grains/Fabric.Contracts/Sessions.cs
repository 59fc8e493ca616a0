namespace Fabric.Contracts;

/// <summary>
/// One socket session as the customer's grain keeps it, across every gateway: who it is, where, since when, and what it
/// subscribed to. Kept in the grain's memory only; gateways hand theirs back after a reactivation (see
/// <see cref="Registration.Sessions"/>).
/// </summary>
/// <param name="Session">The session id (<c>ses_…</c>).</param>
/// <param name="Sub">The user: a token's <c>sub</c>, or the API key's id.</param>
/// <param name="Info">The token's <c>info</c> claim as raw JSON, shown in presence.</param>
/// <param name="Gateway">The gateway process that holds the socket.</param>
/// <param name="ConnectedAt">When the socket was admitted.</param>
/// <param name="Topics">The topics it holds.</param>
/// <param name="Watching">The topics whose joins and leaves it asked for (<c>"presence": true</c>).</param>
[GenerateSerializer, Immutable, Alias("fabric.SessionInfo")]
public sealed record SessionInfo(
    [property: Id(0)] string Session,
    [property: Id(1)] string Sub,
    [property: Id(2)] string? Info,
    [property: Id(3)] string Gateway,
    [property: Id(4)] DateTimeOffset ConnectedAt,
    [property: Id(5)] IReadOnlyList<string> Topics,
    [property: Id(6)] IReadOnlyList<string> Watching);

/// <summary>The answer to <see cref="ICustomerGrain.Connect"/>: admitted or not, and the log's epoch for <c>welcome</c>.</summary>
[GenerateSerializer, Immutable, Alias("fabric.SessionAdmission")]
public sealed record SessionAdmission([property: Id(0)] bool Admitted, [property: Id(1)] int Sessions, [property: Id(2)] LogEpoch Epoch);

/// <summary>A presence member: one per <c>sub</c>, whatever number of sessions it holds.</summary>
[GenerateSerializer, Immutable, Alias("fabric.PresenceMember")]
public sealed record PresenceMember([property: Id(0)] string Sub, [property: Id(1)] string? Info);

/// <summary>A member joined (or left) a topic that sessions on the receiving gateway watch.</summary>
[GenerateSerializer, Immutable, Alias("fabric.PresenceChange")]
public sealed record PresenceChange(
    [property: Id(0)] string Customer,
    [property: Id(1)] string Topic,
    [property: Id(2)] bool Joined,
    [property: Id(3)] PresenceMember Member);

/// <summary>Topic patterns as sockets use them: an exact type, <c>*</c>, or a prefix ending in <c>*</c>.</summary>
public static class TopicPatterns
{
    /// <summary>True when <paramref name="pattern"/> matches the event type (or topic) <paramref name="type"/>.</summary>
    public static bool Matches(string pattern, string type) =>
        pattern.EndsWith('*') ? type.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal) : pattern == type;
}
