using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Fabric.Distributed.Tests;

/// <summary>
/// A socket client that behaves as Fabric asks clients to: it remembers the last seq it received and, when its socket
/// drops, reconnects (to the same gateway first, then the other) and subscribes with <c>since</c>. It records every
/// event it receives, every resume that could not be covered, and when each event arrived.
/// </summary>
/// <remarks>
/// With <paramref name="chaos"/>, it also drops its own socket after a random number of events (1 to 400) and reconnects
/// to a gateway picked at random: the random disconnects of a flaky network.
/// </remarks>
public sealed class Listener(string customer, Uri[] gateways, int preferred, Random? chaos = null)
{
    private readonly Lock _lock = new();
    private readonly List<(long Seq, string? Key, long At)> _events = [];

    public string Customer => customer;

    public int Reconnects { get; private set; }

    /// <summary>Resumes the server said it could not cover (<c>recovered:false</c>) and resync closes (4101).</summary>
    public int Gaps { get; private set; }

    public bool Subscribed { get; private set; }

    /// <summary>Why each connection ended: a close status and reason, or the exception that dropped it.</summary>
    public List<string> Ends { get; } = [];

    /// <summary>When each subscription (the first, and every resume after a reconnect) was confirmed.</summary>
    public List<long> SubscribedAt { get; } = [];

    public long LastSeq { get { lock (_lock) { return _events.Count == 0 ? 0 : _events[^1].Seq; } } }

    public List<(long Seq, string? Key, long At)> Events { get { lock (_lock) { return [.. _events]; } } }

    public async Task RunAsync(CancellationToken stop)
    {
        for (var attempt = 0; !stop.IsCancellationRequested; attempt++)
        {
            var gateway = chaos is null ? gateways[(preferred + attempt) % gateways.Length] : gateways[chaos.Next(gateways.Length)];
            try
            {
                using var socket = new ClientWebSocket();
                socket.Options.AddSubProtocol("fabric.v1");
                await socket.ConnectAsync(new Uri($"ws://{gateway.Authority}/v1/ws?customer={customer}&access_token={LocalCluster.AdminKey}"), stop);
                var since = LastSeq;
                await socket.SendAsync(Encoding.UTF8.GetBytes($"{{\"op\":\"subscribe\",\"topics\":[\"*\"],\"since\":{since}}}"), WebSocketMessageType.Text, true, stop);
                await ReceiveAsync(socket, stop);
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException)
            {
                // Dropped or refused: reconnect below.
                Ends.Add(ex.GetType().Name + ": " + ex.Message);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Subscribed = false;
            Reconnects++;
            await Task.Delay(200, CancellationToken.None);
        }
    }

    private async Task ReceiveAsync(ClientWebSocket socket, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        var dropAfter = chaos?.Next(1, 400) ?? int.MaxValue;
        while (true)
        {
            if (dropAfter <= 0)
            {
                Ends.Add("dropped by the client");
                socket.Abort();
                return;
            }

            using var message = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, stop);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Ends.Add($"close {(int?)socket.CloseStatus} {socket.CloseStatusDescription}");
                    if (socket.CloseStatus == (WebSocketCloseStatus)4101)
                    {
                        Gaps++;
                    }

                    return;
                }

                message.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);

            using var frame = JsonDocument.Parse(message.ToArray());
            var root = frame.RootElement;
            switch (root.GetProperty("op").GetString())
            {
                case "subscribed":
                    if (!root.GetProperty("recovered").GetBoolean())
                    {
                        Gaps++;
                    }

                    Subscribed = true;
                    lock (_lock)
                    {
                        SubscribedAt.Add(Stopwatch.GetTimestamp());
                    }

                    break;
                case "event":
                    var key = root.TryGetProperty("key", out var k) ? k.GetString() : null;
                    lock (_lock)
                    {
                        _events.Add((root.GetProperty("seq").GetInt64(), key, Stopwatch.GetTimestamp()));
                    }

                    dropAfter--;
                    break;
            }
        }
    }
}
