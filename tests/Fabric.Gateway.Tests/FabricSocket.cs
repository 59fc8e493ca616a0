using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Fabric.Gateway.Tests;

/// <summary>A <see cref="ClientWebSocket"/> speaking fabric.v1, as a client application would.</summary>
public sealed class FabricSocket : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);
    private readonly ClientWebSocket _socket;

    private FabricSocket(ClientWebSocket socket) => _socket = socket;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public WebSocketState State => _socket.State;

    public string? SubProtocol => _socket.SubProtocol;

    public JsonElement Welcome { get; private set; }

    /// <summary>
    /// Connects and reads <c>welcome</c>. The credential (the admin key unless given) goes in <c>Authorization</c>, or in
    /// <c>access_token</c> as a browser sends it when <paramref name="inQuery"/>.
    /// </summary>
    public static async Task<FabricSocket> ConnectAsync(Uri baseAddress, string customer, string? origin = null, string? credential = GatewayFixture.AdminKey, bool inQuery = false)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("fabric.v1");
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        if (credential is not null && !inQuery)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + credential);
        }

        var query = credential is not null && inQuery ? "&access_token=" + Uri.EscapeDataString(credential) : "";
        var uri = new Uri($"ws://{baseAddress.Authority}/v1/ws?customer={customer}{query}");
        await socket.ConnectAsync(uri, CancellationToken.None);
        var fabric = new FabricSocket(socket);
        fabric.Welcome = await fabric.ReceiveAsync();
        Assert.Equal("welcome", fabric.Welcome.GetProperty("op").GetString());
        return fabric;
    }

    public Task SendAsync(object frame) => SendTextAsync(JsonSerializer.Serialize(frame));

    public Task SendTextAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    public async Task SendFragmentsAsync(params string[] parts)
    {
        for (var i = 0; i < parts.Length; i++)
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(parts[i]), WebSocketMessageType.Text, i == parts.Length - 1, CancellationToken.None);
        }
    }

    /// <summary>Sends bytes as a text frame without checking them (to send text that is not UTF-8).</summary>
    public Task SendTextBytesAsync(byte[] bytes) => _socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendBinaryAsync(byte[] bytes) => _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary>Subscribes and returns the <c>subscribed</c> reply.</summary>
    public async Task<JsonElement> SubscribeAsync(string[] topics, long? since = null, string? epoch = null)
    {
        await SendAsync(since is null ? new { op = "subscribe", topics } : epoch is null ? new { op = "subscribe", topics, since } : new { op = "subscribe", topics, since, epoch });
        var reply = await ReceiveAsync();
        Assert.Equal("subscribed", reply.GetProperty("op").GetString());
        return reply;
    }

    /// <summary>The next frame; fails the test if none arrives in time or the socket closes.</summary>
    public async Task<JsonElement> ReceiveAsync(TimeSpan? timeout = null)
    {
        var frame = await TryReceiveAsync(timeout ?? DefaultTimeout);
        Assert.True(frame.HasValue, $"No frame arrived (close status: {_socket.CloseStatus}).");
        return frame.Value;
    }

    /// <summary>
    /// The next frame, or null when the socket closed or nothing arrived in time. A receive that times out aborts a
    /// <see cref="ClientWebSocket"/> (as .NET does on any cancelled receive): later calls answer null too.
    /// </summary>
    public async Task<JsonElement?> TryReceiveAsync(TimeSpan timeout)
    {
        if (_socket.State is WebSocketState.Aborted or WebSocketState.Closed)
        {
            return null;
        }

        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            WebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(buffer, cts.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await AnswerCloseAsync();
                    return null;
                }

                message.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (WebSocketException) when (cts.IsCancellationRequested)
        {
            // The cancellation aborted the socket before the receive saw it: the same timeout, reported differently.
            return null;
        }

        return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
    }

    /// <summary>Answers the server's close with the same code, as browsers do, so the server need not wait for it.</summary>
    private async Task AnswerCloseAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _socket.CloseOutputAsync(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "", cts.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The server already went away.
        }
    }

    /// <summary>Receives until <paramref name="count"/> event frames arrived, failing on any other frame.</summary>
    public async Task<List<JsonElement>> ReceiveEventsAsync(int count)
    {
        var events = new List<JsonElement>(count);
        while (events.Count < count)
        {
            var frame = await ReceiveAsync();
            Assert.Equal("event", frame.GetProperty("op").GetString());
            events.Add(frame);
        }

        return events;
    }

    /// <summary>Waits for the server to close the socket and returns the close status.</summary>
    public async Task<WebSocketCloseStatus?> WaitForCloseAsync()
    {
        for (var i = 0; i < 100 && _socket.State == WebSocketState.Open; i++)
        {
            if (await TryReceiveAsync(TimeSpan.FromSeconds(10)) is null)
            {
                break;
            }
        }

        return _socket.CloseStatus;
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // Already going away.
            }
        }

        _socket.Dispose();
    }
}

internal static class FrameExtensions
{
    public static long Seq(this JsonElement frame) => frame.GetProperty("seq").GetInt64();

    public static string Type(this JsonElement frame) => frame.GetProperty("type").GetString()!;
}
