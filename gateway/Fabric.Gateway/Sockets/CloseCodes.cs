using System.Net.WebSockets;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// Close codes the server sends, documented in docs/protocol.md. Like Pusher's ranges: 4000-4099 means do not
/// reconnect without changing something; 4100-4199 means reconnect (with backoff) and resume with <c>since</c>.
/// </summary>
internal static class CloseCodes
{
    /// <summary>1000: the client asked to close (the server answers with the same code).</summary>
    public const WebSocketCloseStatus Normal = WebSocketCloseStatus.NormalClosure;

    /// <summary>1001 as well, for a peer that vanished mid-send; nobody is left to read it.</summary>
    public const WebSocketCloseStatus Gone = WebSocketCloseStatus.EndpointUnavailable;

    /// <summary>1001: the gateway is shutting down; reconnect (to any gateway) and resume.</summary>
    public const WebSocketCloseStatus Shutdown = WebSocketCloseStatus.EndpointUnavailable;

    /// <summary>1009: a client frame was larger than <c>Fabric:Sockets:MaxMessageBytes</c>.</summary>
    public const WebSocketCloseStatus MessageTooBig = WebSocketCloseStatus.MessageTooBig;

    /// <summary>1011: the gateway could not reach the cluster to position the socket; reconnect with backoff and resume.</summary>
    public const WebSocketCloseStatus Unavailable = WebSocketCloseStatus.InternalServerError;

    /// <summary>4000: the client kept sending invalid frames.</summary>
    public const WebSocketCloseStatus InvalidFrames = (WebSocketCloseStatus)4000;

    /// <summary>4100: the client read too slowly and its send queue overflowed; reconnect with backoff and resume.</summary>
    public const WebSocketCloseStatus SlowConsumer = (WebSocketCloseStatus)4100;

    /// <summary>4101: the gateway could not fill a gap for this socket; reconnect and resume to learn what was lost.</summary>
    public const WebSocketCloseStatus Resync = (WebSocketCloseStatus)4101;
}
