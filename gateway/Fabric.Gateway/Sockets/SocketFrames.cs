using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// Any client frame (docs/protocol.md): <c>subscribe</c> (<c>topics</c>, <c>since</c>, <c>epoch</c>, <c>presence</c>),
/// <c>unsubscribe</c>, <c>publish</c> (<c>topic</c>, <c>data</c>, <c>id</c>), <c>presence</c> (<c>topic</c>),
/// <c>refresh</c> (<c>token</c>), <c>ping</c>; any of them may carry <c>ref</c>, echoed by its reply.
/// </summary>
internal sealed record ClientFrame(
    string? Op,
    string[]? Topics,
    long? Since,
    string? Epoch,
    string? Ref = null,
    string? Topic = null,
    JsonElement? Data = null,
    string? Id = null,
    bool? Presence = null,
    string? Token = null);

/// <summary>First frame on every socket: who the server took the client for, and the epoch of the customer's log.</summary>
internal sealed record WelcomeFrame(
    string Session,
    string Customer,
    string? Protocol,
    string? Epoch,
    string Sub,
    DateTimeOffset? Expires,
    [property: JsonPropertyOrder(-1)] string Op = "welcome");

/// <summary>
/// Answers a <c>subscribe</c>; <c>Recovered</c> is false when retention no longer covered <c>since</c>, or when it came
/// from an epoch of the log that the current one (<c>Epoch</c>) does not cover.
/// </summary>
internal sealed record SubscribedFrame(string[] Topics, bool Recovered, long Seq, string Epoch, string? Ref, [property: JsonPropertyOrder(-1)] string Op = "subscribed");

/// <summary>Answers an <c>unsubscribe</c> with the topics the socket still holds.</summary>
internal sealed record UnsubscribedFrame(string[] Topics, string[] Remaining, string? Ref, [property: JsonPropertyOrder(-1)] string Op = "unsubscribed");

/// <summary>A frame the server could not act on; the socket stays open unless a close follows.</summary>
internal sealed record ErrorFrame(string Code, string Message, string? Ref, [property: JsonPropertyOrder(-1)] string Op = "error");

/// <summary>Answers a <c>ping</c>.</summary>
internal sealed record PongFrame(string? Ref, [property: JsonPropertyOrder(-1)] string Op = "pong");

/// <summary>Answers a <c>publish</c> once the customer's grain has kept the event.</summary>
/// <summary><c>published</c>: kept at <c>seq</c> — or, with <c>dropped</c>, dropped by the customer's transform (nothing stored, no seq).</summary>
internal sealed record PublishedFrame(string? Ref, string? Id, long? Seq, bool Duplicate, [property: JsonPropertyOrder(-1)] string Op = "published", bool? Dropped = null);

/// <summary>Answers a <c>refresh</c>: the socket now lives until <c>Expires</c>.</summary>
internal sealed record RefreshedFrame(string? Ref, DateTimeOffset Expires, [property: JsonPropertyOrder(-1)] string Op = "refreshed");

/// <summary>Answers a <c>presence</c> request: who holds a subscription matching the topic, once per <c>sub</c>.</summary>
internal sealed record PresenceFrame(string Topic, IReadOnlyList<MemberView> Members, string? Ref, [property: JsonPropertyOrder(-1)] string Op = "presence");

/// <summary>A member joined or left a topic a <c>"presence":true</c> subscribe watches (<c>Op</c> = <c>join</c> or <c>leave</c>).</summary>
internal sealed record MembershipFrame([property: JsonPropertyOrder(-1)] string Op, string Topic, MemberView Member);

/// <summary>A member as presence shows it: the token's <c>sub</c> and its <c>info</c> claim.</summary>
internal sealed record MemberView(string Sub, JsonElement? Info);

/// <summary>Source-generated JSON for the socket protocol's frames; strict numbers (<c>"since":"42"</c> is an invalid frame).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ClientFrame))]
[JsonSerializable(typeof(WelcomeFrame))]
[JsonSerializable(typeof(SubscribedFrame))]
[JsonSerializable(typeof(UnsubscribedFrame))]
[JsonSerializable(typeof(ErrorFrame))]
[JsonSerializable(typeof(PongFrame))]
[JsonSerializable(typeof(PublishedFrame))]
[JsonSerializable(typeof(RefreshedFrame))]
[JsonSerializable(typeof(PresenceFrame))]
[JsonSerializable(typeof(MembershipFrame))]
internal sealed partial class SocketJsonContext : JsonSerializerContext;
