using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Fabric.Gateway.Tests;

/// <summary>
/// Keep-alives come from the gateway's one wheel, not a timer per socket: an idle socket is pinged every interval, a
/// client that answers stays, one that stops answering is dropped after the timeout. Seen from a raw TCP client
/// that reads frames itself, so the pings and the drop are observed, not assumed.
/// </summary>
public sealed class KeepAliveTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(new()
    {
        ["Fabric:Sockets:KeepAliveInterval"] = "00:00:01",
        ["Fabric:Sockets:KeepAliveTimeout"] = "00:00:01",
    });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task An_idle_client_is_pinged_stays_while_it_answers_and_is_dropped_once_it_stops()
    {
        long timeouts = 0;
        using var listener = Counters.Listen("fabric.gateway.keepalive_timeouts", value => Interlocked.Add(ref timeouts, value));

        var customer = await _gateway.NewCustomerAsync();
        using var tcp = new TcpClient();
        var address = _gateway.Http.BaseAddress!;
        await tcp.ConnectAsync(address.Host, address.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /v1/ws?customer={customer} HTTP/1.1\r\nHost: {address.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Authorization: Bearer {GatewayFixture.AdminKey}\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 101", await ReadHeadAsync(stream), StringComparison.Ordinal);
        Assert.Equal(1, (await ReadFrameAsync(stream, TimeSpan.FromSeconds(10)))!.Value.Opcode);   // welcome

        // Answering: pinged again and again, never dropped. Three pings span two timeouts' worth of answered silence.
        for (var pings = 0; pings < 3;)
        {
            var frame = await ReadFrameAsync(stream, TimeSpan.FromSeconds(5));
            Assert.True(frame is not null, "the connection was dropped while the client answered every ping");
            if (frame.Value.Opcode == 9)
            {
                pings++;
                await stream.WriteAsync(new byte[] { 0x8A, 0x80, 1, 2, 3, 4 });   // a masked, empty pong
            }
        }

        Assert.Equal(0, Interlocked.Read(ref timeouts));

        // Silent: dropped after the next unanswered ping's timeout.
        var silent = Stopwatch.StartNew();
        while (await ReadFrameAsync(stream, TimeSpan.FromSeconds(10)) is { } frame)
        {
            Assert.True(silent.Elapsed < TimeSpan.FromSeconds(10), "a client that stopped answering was never dropped");
        }

        Assert.Equal(1, Interlocked.Read(ref timeouts));
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one) == 1)
        {
            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    /// <summary>The next server frame (unmasked), or null when the connection ended.</summary>
    private static async Task<(int Opcode, byte[] Payload)?> ReadFrameAsync(NetworkStream stream, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            var header = new byte[2];
            if (!await FillAsync(stream, header, cancel.Token))
            {
                return null;
            }

            long length = header[1] & 0x7F;
            if (length >= 126)
            {
                var extended = new byte[length == 126 ? 2 : 8];
                if (!await FillAsync(stream, extended, cancel.Token))
                {
                    return null;
                }

                length = extended.Aggregate(0L, (n, b) => (n << 8) | b);
            }

            var payload = new byte[length];
            return await FillAsync(stream, payload, cancel.Token) ? (header[0] & 0x0F, payload) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static async Task<bool> FillAsync(NetworkStream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }
}
