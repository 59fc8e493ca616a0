using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// Every reply the server sends on a socket, and which of them are positional: the one place that knows the protocol's
/// server frames (docs/protocol.md). Callers decide when a reply is due (the feed under its lock, so a <c>subscribed</c>
/// lands between the right events); this type decides what it says and how it queues.
/// </summary>
internal static class SocketReplies
{
    public static void Welcome(SocketSession session, string? protocol, string? epoch) =>
        Send(session, new WelcomeFrame(session.Id, session.Customer, protocol, epoch, session.Credential.Sub, session.Credential.Expires), SocketJsonContext.Default.WelcomeFrame);

    /// <summary>Positional: events after it are the ones past <paramref name="seq"/>, so none queued before it may be dropped.</summary>
    public static void Subscribed(SocketSession session, string[] topics, bool recovered, long seq, string epoch, string? @ref) =>
        Send(session, new SubscribedFrame(topics, recovered, seq, epoch, @ref), SocketJsonContext.Default.SubscribedFrame, positional: true);

    /// <summary>Positional: no event matched only by a removed topic follows it.</summary>
    public static void Unsubscribed(SocketSession session, string[] topics, string[] remaining, string? @ref) =>
        Send(session, new UnsubscribedFrame(topics, remaining, @ref), SocketJsonContext.Default.UnsubscribedFrame, positional: true);

    public static void Pong(SocketSession session, string? @ref) => Send(session, new PongFrame(@ref), SocketJsonContext.Default.PongFrame);

    public static void Error(SocketSession session, string code, string message, string? @ref) =>
        Send(session, new ErrorFrame(code, message, @ref), SocketJsonContext.Default.ErrorFrame);

    public static void Published(SocketSession session, string? @ref, string id, long seq, bool duplicate) =>
        Send(session, new PublishedFrame(@ref, id, seq, duplicate), SocketJsonContext.Default.PublishedFrame);

    public static void Dropped(SocketSession session, string? @ref) =>
        Send(session, new PublishedFrame(@ref, null, null, false, Dropped: true), SocketJsonContext.Default.PublishedFrame);

    public static void Refreshed(SocketSession session, string? @ref, DateTimeOffset expires) =>
        Send(session, new RefreshedFrame(@ref, expires), SocketJsonContext.Default.RefreshedFrame);

    public static void Presence(SocketSession session, string topic, IReadOnlyList<MemberView> members, string? @ref) =>
        Send(session, new PresenceFrame(topic, members, @ref), SocketJsonContext.Default.PresenceFrame);

    /// <summary>A <c>join</c> or <c>leave</c>, serialized once for every watching socket of this gateway.</summary>
    public static byte[] Membership(bool joined, string topic, MemberView member) =>
        JsonSerializer.SerializeToUtf8Bytes(new MembershipFrame(joined ? "join" : "leave", topic, member), SocketJsonContext.Default.MembershipFrame);

    private static void Send<T>(SocketSession session, T frame, JsonTypeInfo<T> typeInfo, bool positional = false) =>
        session.Enqueue(JsonSerializer.SerializeToUtf8Bytes(frame, typeInfo), positional);
}
