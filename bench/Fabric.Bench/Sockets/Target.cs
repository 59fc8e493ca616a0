using System.Net.WebSockets;
using System.Text;

namespace Fabric.Bench.Sockets;

/// <summary>
/// What differs between the servers under test: where sockets connect, where events are posted, and the handshake
/// a socket does before it receives broadcasts. The client is otherwise the same for all of them.
/// </summary>
internal sealed record Target(string Kind, Uri SocketUrl, Uri PostUrl, string? SubProtocol)
{
    /// <summary>fabric: the gateway (customer "bench"); raw: bare Kestrel or Node <c>ws</c>; signalr: the SignalR hub.</summary>
    public static Target For(string kind, Uri baseUrl)
    {
        var ws = new UriBuilder(baseUrl) { Scheme = baseUrl.Scheme == "https" ? "wss" : "ws" }.Uri;
        return kind switch
        {
            "fabric" => new Target(kind, new Uri(ws, "/v1/ws?customer=bench"), new Uri(baseUrl, "/v1/webhooks/bench/load"), "fabric.v1"),
            "raw" => new Target(kind, new Uri(ws, "/ws"), new Uri(baseUrl, "/broadcast"), null),
            "signalr" => new Target(kind, new Uri(ws, "/hub"), new Uri(baseUrl, "/broadcast"), null),
            _ => throw new ArgumentException($"unknown target kind '{kind}' (fabric, raw, signalr)"),
        };
    }

    /// <summary>Brings a fresh socket to the point where it receives broadcasts.</summary>
    public async Task HandshakeAsync(ClientWebSocket socket, byte[] buffer, CancellationToken ct)
    {
        switch (Kind)
        {
            case "fabric":
                await socket.SendAsync("{\"op\":\"subscribe\",\"topics\":[\"*\"]}"u8.ToArray(), WebSocketMessageType.Text, true, ct);
                await ReceiveUntilAsync(socket, buffer, "\"op\":\"subscribed\"", ct);
                break;
            case "signalr":
                // JSON hub protocol; records end with 0x1E. The server answers the handshake with "{}".
                await socket.SendAsync("{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray(), WebSocketMessageType.Text, true, ct);
                await ReceiveUntilAsync(socket, buffer, "{}\u001e", ct);
                break;
        }
    }

    private static async Task ReceiveUntilAsync(ClientWebSocket socket, byte[] buffer, string expected, CancellationToken ct)
    {
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"closed during handshake: {result.CloseStatus} {result.CloseStatusDescription}");
            }

            if (Encoding.UTF8.GetString(buffer, 0, result.Count).Contains(expected, StringComparison.Ordinal))
            {
                return;
            }
        }
    }
}
