using System.Text.Json.Serialization;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// Any client frame: <c>{"op":"subscribe","topics":[...],"since":42,"epoch":"…"}</c>, <c>unsubscribe</c>, <c>ping</c>.
/// </summary>
internal sealed record ClientFrame(string? Op, string[]? Topics, long? Since, string? Epoch);

/// <summary>First frame on every socket.</summary>
internal sealed record WelcomeFrame(string Session, string Customer, string? Protocol, [property: JsonPropertyOrder(-1)] string Op = "welcome");

/// <summary>
/// Answers a <c>subscribe</c>; <c>Recovered</c> is false when retention no longer covered <c>since</c>, or when it came
/// from an epoch of the log that the current one (<c>Epoch</c>) does not cover.
/// </summary>
internal sealed record SubscribedFrame(string[] Topics, bool Recovered, long Seq, string Epoch, [property: JsonPropertyOrder(-1)] string Op = "subscribed");

/// <summary>Answers an <c>unsubscribe</c> with the topics the socket still holds.</summary>
internal sealed record UnsubscribedFrame(string[] Topics, string[] Remaining, [property: JsonPropertyOrder(-1)] string Op = "unsubscribed");

/// <summary>A frame the server could not act on; the socket stays open.</summary>
internal sealed record ErrorFrame(string Code, string Message, [property: JsonPropertyOrder(-1)] string Op = "error");

/// <summary>Answers a <c>ping</c>.</summary>
internal sealed record PongFrame([property: JsonPropertyOrder(-1)] string Op = "pong");
