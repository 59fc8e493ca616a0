using System.Net.Sockets;
using System.Net.WebSockets;
using System.Net;
using System.Text.Json;
using Fabric.Contracts;

namespace Fabric.Gateway.Tests;

/// <summary>Two ends of a real WebSocket over a loopback TCP connection.</summary>
internal sealed class SocketPair : IAsyncDisposable
{
    /// <summary>The credential of a session built by hand: an operator's, every topic both ways.</summary>
    public static readonly Sockets.Auth.SocketCredential Admin =
        new(Sockets.Auth.SocketCredential.Admin, "admin", null, TopicFilter.All, TopicFilter.All, null, null);

    private readonly TcpClient _serverTcp;
    private readonly TcpClient _clientTcp;
    private readonly WebSocket _client;

    private SocketPair(TcpClient serverTcp, TcpClient clientTcp)
    {
        _serverTcp = serverTcp;
        _clientTcp = clientTcp;
        Server = WebSocket.CreateFromStream(serverTcp.GetStream(), new WebSocketCreationOptions { IsServer = true });
        _client = WebSocket.CreateFromStream(clientTcp.GetStream(), new WebSocketCreationOptions { IsServer = false });
    }

    public WebSocket Server { get; }

    public WebSocketCloseStatus? CloseStatus => _client.CloseStatus;

    public static async Task<SocketPair> OpenAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        var accepting = listener.AcceptTcpClientAsync();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        return new SocketPair(await accepting, client);
    }

    public async Task<JsonElement> ReceiveAsync() =>
        await TryReceiveAsync(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException("No frame arrived.");

    public async Task<JsonElement?> TryReceiveAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        try
        {
            var result = await _client.ReceiveAsync(buffer, cts.Token);
            return result.MessageType == WebSocketMessageType.Close ? null : JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement.Clone();
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        Server.Dispose();
        _clientTcp.Dispose();
        _serverTcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
