using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// Accepts a WebSocket over an HTTP/1.1 upgrade itself, so the upgraded stream can sit under a
/// <see cref="CoalescingStream"/>; the socket is still <c>ManagedWebSocket</c> (<see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>),
/// its keep-alives kept by the <see cref="KeepAliveWheel"/>. Anything else (HTTP/2 WebSockets) goes through ASP.NET Core's own accept, uncoalesced.
/// </summary>
internal static class SocketUpgrade
{
    // RFC 6455 §1.3: the GUID appended to the client's key before hashing.
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public static async Task<(WebSocket Socket, CoalescingStream? Coalescer)> AcceptAsync(HttpContext context, string? protocol, SocketOptions options, KeepAliveWheel keepAlives)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var key = context.Request.Headers.SecWebSocketKey.ToString();
        if (upgrade is not { IsUpgradableRequest: true } || key.Length == 0)
        {
            var accepted = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = protocol,
                KeepAliveInterval = options.KeepAliveInterval,
                KeepAliveTimeout = options.KeepAliveTimeout,
            });
            return (accepted, null);
        }

        // As ASP.NET Core's accept does: a socket lives for hours, the request timeout was for its handshake.
        context.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
        var headers = context.Response.Headers;
        headers.Connection = "Upgrade";
        headers.Upgrade = "websocket";
#pragma warning disable CA5350 // RFC 6455 fixes SHA-1 for the handshake; it protects nothing, it only proves a WebSocket server answered.
        headers.SecWebSocketAccept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
#pragma warning restore CA5350
        if (protocol is not null)
        {
            headers.SecWebSocketProtocol = protocol;
        }

        var coalescer = new CoalescingStream(await upgrade.UpgradeAsync(), keepAlives.Clock);
        // No timer of its own: the gateway's one keep-alive wheel pings it through the coalescing stream.
        var socket = WebSocket.CreateFromStream(coalescer, new WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = protocol,
            KeepAliveInterval = TimeSpan.Zero,
        });
        keepAlives.Watch(coalescer, socket, context);
        return (socket, coalescer);
    }
}
