using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Fabric.Gateway.Tests;

/// <summary><c>fabric.v1.batch</c>: the same frames, several to a message as a JSON array when the server has several queued.</summary>
[Collection(GatewayCollection.Name)]
public sealed class BatchedProtocolTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_client_offering_the_batched_protocol_gets_it_and_reads_a_replay_in_arrays_in_order()
    {
        var customer = await fixture.NewCustomerAsync();
        const int total = 200;
        for (var i = 0; i < total; i++)
        {
            await fixture.PostWebhookAsync(customer, $$"""{"type":"load.tick","i":{{i}}}""");
        }

        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("fabric.v1.batch");
        socket.Options.AddSubProtocol("fabric.v1");
        socket.Options.SetRequestHeader("Authorization", "Bearer " + GatewayFixture.AdminKey);
        await socket.ConnectAsync(new Uri($"ws://{fixture.BaseAddress.Authority}/v1/ws?customer={customer}"), CancellationToken.None);
        Assert.Equal("fabric.v1.batch", socket.SubProtocol);

        var welcome = Assert.Single(await ReceiveMessageAsync(socket));
        Assert.Equal("welcome", welcome.GetProperty("op").GetString());
        Assert.Equal("fabric.v1.batch", welcome.GetProperty("protocol").GetString());

        await socket.SendAsync("""{"op":"subscribe","topics":["*"],"since":0}"""u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var frames = new List<JsonElement>();
        var arrays = 0;
        while (frames.Count(f => f.GetProperty("op").GetString() == "event") < total)
        {
            var message = await ReceiveMessageAsync(socket);
            arrays += message.Count > 1 ? 1 : 0;
            frames.AddRange(message);
        }

        Assert.Equal("subscribed", frames[0].GetProperty("op").GetString());
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), frames.Skip(1).Select(f => f.Seq()));
        // The replay was queued faster than one socket write: it left in far fewer messages than events.
        Assert.True(arrays > 0, "no message carried more than one frame");
    }

    /// <summary>One WebSocket message: a frame, or the frames of an array.</summary>
    private static async Task<List<JsonElement>> ReceiveMessageAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        var root = JsonDocument.Parse(Encoding.UTF8.GetString(message.ToArray())).RootElement;
        return root.ValueKind == JsonValueKind.Array ? [.. root.EnumerateArray()] : [root];
    }
}
