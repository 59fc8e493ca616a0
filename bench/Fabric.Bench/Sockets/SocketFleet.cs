using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Fabric.Bench.Load;

namespace Fabric.Bench.Sockets;

/// <summary>
/// N client WebSockets to one server, each with its own receive loop that counts stamped events and (when asked)
/// records their latency. Connections are spread over source addresses 127.0.0.2…, so that 15,000+ sockets do not
/// exhaust the ephemeral ports of one address pair.
/// </summary>
internal sealed class SocketFleet : IAsyncDisposable
{
    private readonly Target target;
    private readonly ClientWebSocket[] sockets;
    private readonly long[] counts;
    private readonly long[] lastAt;
    private readonly List<float>[] latencies;
    private readonly Task[] loops;
    private readonly CancellationTokenSource stop = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> closes = new();
    private volatile bool recording;

    private SocketFleet(Target target, int n)
    {
        this.target = target;
        sockets = new ClientWebSocket[n];
        counts = new long[n];
        lastAt = new long[n];
        latencies = Enumerable.Range(0, n).Select(_ => new List<float>()).ToArray();
        loops = new Task[n];
    }

    public int Count => sockets.Length;

    public long Delivered => counts.Sum();

    public long MinPerSocket => counts.Length == 0 ? 0 : counts.Min();

    public long LastDeliveryAt => lastAt.Max();

    /// <summary>How the server ended sockets before the fleet closed them, by close code ("aborted" without one).</summary>
    public IReadOnlyDictionary<string, int> Closes => closes.ToDictionary(c => c.Key, c => c.Value);

    /// <summary>Opens and hands-shakes <paramref name="n"/> sockets, <paramref name="parallel"/> at a time.</summary>
    public static async Task<SocketFleet> OpenAsync(Target target, int n, int parallel, int sourceAddresses, int receiveBuffer, CancellationToken ct)
    {
        var fleet = new SocketFleet(target, n);
        var next = 0;
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = async (context, token) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    var source = 2 + (Interlocked.Increment(ref next) % Math.Max(1, sourceAddresses));
                    socket.Bind(new IPEndPoint(IPAddress.Parse($"127.0.0.{source}"), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, token);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        });

        using var gate = new SemaphoreSlim(parallel);
        var opening = Enumerable.Range(0, n).Select(async i =>
        {
            await gate.WaitAsync(ct);
            try
            {
                var socket = new ClientWebSocket();
                socket.Options.KeepAliveInterval = Timeout.InfiniteTimeSpan;
                foreach (var protocol in target.SubProtocols)
                {
                    socket.Options.AddSubProtocol(protocol);
                }

                await socket.ConnectAsync(target.SocketUrlFor(i), invoker, ct);
                var buffer = new byte[receiveBuffer];
                await target.HandshakeAsync(socket, buffer, ct);
                fleet.sockets[i] = socket;
                fleet.loops[i] = Task.Run(() => fleet.ReceiveLoopAsync(i, buffer));
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(opening);
        return fleet;
    }

    /// <summary>
    /// Sends <paramref name="frame"/> on socket <paramref name="i"/>. Only one sender per socket (the chat scenario's
    /// loop for it); the receive loop never sends, so a socket's one send and one receive never overlap themselves.
    /// </summary>
    public ValueTask SendAsync(int i, ReadOnlyMemory<byte> frame, CancellationToken ct) =>
        sockets[i].SendAsync(frame, WebSocketMessageType.Text, true, ct);

    /// <summary>Zeroes counters and latencies; from now on latencies are recorded if <paramref name="record"/>.</summary>
    public void Reset(bool record)
    {
        recording = false;
        for (var i = 0; i < counts.Length; i++)
        {
            Interlocked.Exchange(ref counts[i], 0);
            lock (latencies[i])
            {
                latencies[i].Clear();
            }
        }

        recording = record;
    }

    public float[] SortedLatencies()
    {
        var all = new List<float>();
        foreach (var list in latencies)
        {
            lock (list)
            {
                all.AddRange(list);
            }
        }

        var array = all.ToArray();
        Array.Sort(array);
        return array;
    }

    private async Task ReceiveLoopAsync(int i, byte[] buffer)
    {
        var socket = sockets[i];
        var length = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var result = await socket.ReceiveAsync(buffer.AsMemory(length), stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    closes.AddOrUpdate(((int?)socket.CloseStatus)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none", 1, (_, c) => c + 1);
                    return;
                }

                length += result.Count;
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var now = Stopwatch.GetTimestamp();
                int found;
                var list = latencies[i];
                lock (list)
                {
                    found = Payload.CountStamps(buffer.AsSpan(0, length), now, recording ? list : null);
                }

                if (found > 0)
                {
                    Interlocked.Add(ref counts[i], found);
                    Volatile.Write(ref lastAt[i], now);
                }

                length = 0;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // The fleet is closing, or the server dropped the connection; the counters say what arrived.
            if (!stop.IsCancellationRequested)
            {
                closes.AddOrUpdate("aborted", 1, (_, c) => c + 1);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        foreach (var socket in sockets)
        {
            socket?.Abort();
            socket?.Dispose();
        }

        await Task.WhenAll(loops.Where(l => l is not null));
        stop.Dispose();
    }
}
