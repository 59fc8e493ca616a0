using System.Net.WebSockets;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// Close codes the server sends, documented in docs/protocol.md, in Pusher's ranges: 4000-4099 do not reconnect
/// without changing something; 4100-4199 reconnect with backoff and resume with <c>since</c>; 4200-4299 reconnect now
/// (to any gateway) and resume.
/// </summary>
internal static class CloseCodes
{
    /// <summary>1000: the client asked to close (the server answers with the same code).</summary>
    public const WebSocketCloseStatus Normal = WebSocketCloseStatus.NormalClosure;

    /// <summary>1001 as well, for a peer that vanished mid-send; nobody is left to read it.</summary>
    public const WebSocketCloseStatus Gone = WebSocketCloseStatus.EndpointUnavailable;

    /// <summary>1009: a client frame was larger than <c>Fabric:Sockets:MaxMessageBytes</c>.</summary>
    public const WebSocketCloseStatus MessageTooBig = WebSocketCloseStatus.MessageTooBig;

    /// <summary>1011: the gateway could not reach the cluster to position the socket; reconnect with backoff and resume.</summary>
    public const WebSocketCloseStatus Unavailable = WebSocketCloseStatus.InternalServerError;

    /// <summary>4000: the client kept sending invalid frames.</summary>
    public const WebSocketCloseStatus InvalidFrames = (WebSocketCloseStatus)4000;

    /// <summary>4001: the credential the socket opened with was revoked, or a refresh came too late; get a new one.</summary>
    public const WebSocketCloseStatus Unauthorized = (WebSocketCloseStatus)4001;

    /// <summary>4003: an operator closed the session (admin API); do not reconnect on your own.</summary>
    public const WebSocketCloseStatus DisconnectedByOperator = (WebSocketCloseStatus)4003;

    /// <summary>4008: the client sent frames faster than <c>MessagesPerSecond</c>.</summary>
    public const WebSocketCloseStatus RateLimited = (WebSocketCloseStatus)4008;

    /// <summary>4100: the client read too slowly and its send queue overflowed; reconnect with backoff and resume.</summary>
    public const WebSocketCloseStatus SlowConsumer = (WebSocketCloseStatus)4100;

    /// <summary>4101: the gateway could not fill a gap for this socket; reconnect and resume to learn what was lost.</summary>
    public const WebSocketCloseStatus Resync = (WebSocketCloseStatus)4101;

    /// <summary>4200: the gateway is draining for shutdown; reconnect now (to any gateway) and resume.</summary>
    public const WebSocketCloseStatus Drain = (WebSocketCloseStatus)4200;

    /// <summary>4201: the connection token expired; reconnect now with a fresh token and resume.</summary>
    public const WebSocketCloseStatus TokenExpired = (WebSocketCloseStatus)4201;
}
