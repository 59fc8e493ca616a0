using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Fabric.Bench.Soak;

/// <summary>The soak's sockets: the witness, the churning fleet and the publisher, all with the admin key as credential.</summary>
internal sealed class SocketClient(Uri[] gateways, string adminKey, string customer, SoakScenario.Counters stats)
{
    private static readonly string[] Everything = ["*"];

    /// <summary>Stays connected on the last gateway and checks every seq arrives once, in order; reconnects with since if closed.</summary>
    public async Task WitnessAsync(SoakScenario.Witness witness, CancellationToken stop)
    {
        while (!witness.Done.IsCancellationRequested)
        {
            try
            {
                using var socket = await ConnectAsync(gateways[^1], witness.Done.Token);
                // From seq 0 the first time (the customer is new): nothing accepted before the subscription lands is missed.
                await SubscribeAsync(socket, witness.Last, witness.Done.Token);
                witness.Subscribed.TrySetResult();
                await foreach (var seq in EventsAsync(socket, witness.Done.Token))
                {
                    if (seq <= witness.Last)
                    {
                        continue;
                    }

                    if (seq != witness.Last + 1)
                    {
                        witness.Gaps++;
                    }

                    witness.Last = seq;
                    witness.Count++;
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
            }

            if (!witness.Done.IsCancellationRequested)
            {
                witness.Reconnects++;
                await Task.Delay(500, CancellationToken.None);
            }
        }
    }

    /// <summary>One churning socket: connects to a gateway, resumes from where it was, stays 5–20 s, leaves, and again.</summary>
    public async Task ChurnAsync(int index, CancellationToken stop)
    {
        var random = new Random(index);
        long? last = null;
        await Task.Delay(random.Next(0, 5000), CancellationToken.None);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var socket = await ConnectAsync(gateways[(index + random.Next(2)) % gateways.Length], stop);
                Interlocked.Increment(ref stats.Connects);
                await SubscribeAsync(socket, last, stop);
                if (last is not null)
                {
                    Interlocked.Increment(ref stats.Resumes);
                }

                using var stay = CancellationTokenSource.CreateLinkedTokenSource(stop);
                stay.CancelAfter(TimeSpan.FromSeconds(random.Next(5, 20)));
                await foreach (var seq in EventsAsync(socket, stay.Token))
                {
                    if (last is { } before && seq > before + 1)
                    {
                        Interlocked.Increment(ref stats.ResumeGaps);
                    }

                    if (last is null || seq > last)
                    {
                        last = seq;
                    }

                    Interlocked.Increment(ref stats.SocketEvents);
                }

                if (socket.State == WebSocketState.Open)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
            }

            await Task.Delay(random.Next(100, 1000), CancellationToken.None);
        }
    }

    /// <summary>Publishes from one socket on the first gateway at a steady rate, remembering each acknowledged id.</summary>
    public async Task PublishAsync(double rate, ConcurrentDictionary<string, long> acked, CancellationToken stop)
    {
        var interval = TimeSpan.FromSeconds(1 / rate);
        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var socket = await ConnectAsync(gateways[0], stop);
                var buffer = new byte[64 * 1024];
                while (!stop.IsCancellationRequested)
                {
                    await Task.Delay(interval, CancellationToken.None);
                    // The id makes a publish repeated after a lost answer a duplicate, not a second event.
                    var frame = JsonSerializer.SerializeToUtf8Bytes(new { op = "publish", topic = "soak.socket", id = $"p-{n}", data = new { n }, @ref = $"r{n}" });
                    await socket.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);
                    while (true)
                    {
                        var reply = await ReceiveAsync(socket, buffer, CancellationToken.None);
                        if (reply is null)
                        {
                            throw new WebSocketException("closed");
                        }

                        var root = reply.Value;
                        var op = root.GetProperty("op").GetString();
                        if (op == "published" && root.TryGetProperty("id", out var id) && id.GetString() is { } value)
                        {
                            acked.TryAdd(value, root.GetProperty("seq").GetInt64());
                            Interlocked.Increment(ref stats.Publishes);
                            n++;
                            break;
                        }

                        if (op == "error")
                        {
                            // Unconfirmed: the same id again.
                            break;
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                await Task.Delay(500, CancellationToken.None);
            }
        }
    }

    private async Task<ClientWebSocket> ConnectAsync(Uri gateway, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("fabric.v1");
        socket.Options.SetRequestHeader("Authorization", "Bearer " + adminKey);
        await socket.ConnectAsync(new Uri($"ws://{gateway.Authority}/v1/ws?customer={customer}"), ct);
        return socket;
    }

    private static async Task SubscribeAsync(ClientWebSocket socket, long? since, CancellationToken ct)
    {
        var frame = JsonSerializer.SerializeToUtf8Bytes(since is null ? new { op = "subscribe", topics = Everything } : (object)new { op = "subscribe", topics = Everything, since });
        await socket.SendAsync(frame, WebSocketMessageType.Text, true, ct);
    }

    /// <summary>The seqs of the event frames the socket receives, until it closes or <paramref name="ct"/> ends.</summary>
    private static async IAsyncEnumerable<long> EventsAsync(ClientWebSocket socket, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var buffer = new byte[256 * 1024];
        while (true)
        {
            JsonElement? frame;
            try
            {
                frame = await ReceiveAsync(socket, buffer, ct);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }

            if (frame is not { } root)
            {
                yield break;
            }

            if (root.GetProperty("op").GetString() == "event")
            {
                yield return root.GetProperty("seq").GetInt64();
            }
        }
    }

    private static async Task<JsonElement?> ReceiveAsync(ClientWebSocket socket, byte[] buffer, CancellationToken ct)
    {
        var length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            length += result.Count;
            if (!result.EndOfMessage && length == buffer.Length)
            {
                throw new WebSocketException("a frame larger than the soak's buffer");
            }

            if (result.EndOfMessage)
            {
                return JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, length)).RootElement.Clone();
            }
        }
    }
}
