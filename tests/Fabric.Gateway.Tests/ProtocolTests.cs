using System.Net;
using System.Net.WebSockets;

namespace Fabric.Gateway.Tests;

/// <summary>Invalid frames get an error and leave the socket open; persistent abuse gets a documented close code.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ProtocolTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Ping_is_answered_with_pong()
    {
        await using var socket = await fixture.ConnectAsync(await fixture.NewCustomerAsync());
        await socket.SendAsync(new { op = "ping" });
        Assert.Equal("pong", (await socket.ReceiveAsync()).GetProperty("op").GetString());
    }

    [Theory]
    [InlineData("not json", "invalid_json")]
    [InlineData("", "invalid_json")]
    [InlineData("{\"op\":\"dance\"}", "unknown_op")]
    [InlineData("{\"topics\":[\"a\"]}", "missing_op")]
    [InlineData("{\"op\":\"subscribe\"}", "invalid_topics")]
    [InlineData("{\"op\":\"subscribe\",\"topics\":[]}", "invalid_topics")]
    [InlineData("{\"op\":\"subscribe\",\"topics\":[\"a*b\"]}", "invalid_topics")]
    [InlineData("{\"op\":\"subscribe\",\"topics\":[\"a\"],\"since\":-1}", "invalid_since")]
    [InlineData("{\"op\":\"subscribe\",\"topics\":[\"a\"],\"since\":9223372036854775807}", "invalid_since")]
    [InlineData("{\"op\":\"subscribe\",\"topics\":[\"a\"],\"since\":9007199254740992}", "invalid_since")]
    [InlineData("{\"op\":\"subscribe\",\"topics\":[\"a\"],\"epoch\":\"e1\"}", "invalid_epoch")]
    [InlineData("{\"op\":\"subscribe\",\"topics\":[\"a\"],\"since\":\"x\"}", "invalid_json")]
    [InlineData("{\"op\":\"subscribe\",\"topics\":[\"a\"],\"since\":\"42\"}", "invalid_json")]
    public async Task Invalid_frame_gets_an_error_and_the_socket_stays_usable(string frame, string code)
    {
        await using var socket = await fixture.ConnectAsync(await fixture.NewCustomerAsync());
        await socket.SendTextAsync(frame);
        var error = await socket.ReceiveAsync();
        Assert.Equal(("error", code), (error.GetProperty("op").GetString(), error.GetProperty("code").GetString()));

        await socket.SendAsync(new { op = "ping" });
        Assert.Equal("pong", (await socket.ReceiveAsync()).GetProperty("op").GetString());
    }

    [Fact]
    public async Task A_frame_sent_in_fragments_is_read_whole()
    {
        // The receive loop waits with a zero-byte read and only then reads the frame: the fragments after the first
        // must still join into one message.
        await using var socket = await fixture.ConnectAsync(await fixture.NewCustomerAsync());
        await socket.SendFragmentsAsync("{\"op\":", "\"pi", "ng\"}");
        Assert.Equal("pong", (await socket.ReceiveAsync()).GetProperty("op").GetString());
    }

    [Fact]
    public async Task Binary_frames_are_refused_with_an_error()
    {
        await using var socket = await fixture.ConnectAsync(await fixture.NewCustomerAsync());
        await socket.SendBinaryAsync([1, 2, 3]);
        Assert.Equal("binary_not_supported", (await socket.ReceiveAsync()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_client_that_keeps_sending_garbage_is_closed_with_4000()
    {
        await using var socket = await fixture.ConnectAsync(await fixture.NewCustomerAsync());
        for (var i = 0; i < 10; i++)
        {
            await socket.SendTextAsync("garbage");
        }

        Assert.Equal((WebSocketCloseStatus)4000, await socket.WaitForCloseAsync());
    }

    [Fact]
    public async Task An_oversized_frame_closes_the_socket_with_1009()
    {
        await using var socket = await fixture.ConnectAsync(await fixture.NewCustomerAsync());
        await socket.SendTextAsync("{\"op\":\"ping\",\"pad\":\"" + new string('x', GatewayFixture.MaxMessageBytes * 2) + "\"}");
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await socket.WaitForCloseAsync());
    }

    [Fact]
    public async Task Too_many_topics_are_refused()
    {
        await using var socket = await fixture.ConnectAsync(await fixture.NewCustomerAsync());
        var topics = Enumerable.Range(0, 129).Select(i => $"t{i}").ToArray();
        await socket.SendAsync(new { op = "subscribe", topics });
        Assert.Equal("too_many_topics", (await socket.ReceiveAsync()).GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("/v1/ws?customer=acme", "websocket-required")]
    public async Task Plain_http_request_to_the_socket_endpoint_gets_a_problem(string path, string problem)
    {
        await IngestTests.AssertProblemAsync(await fixture.Http.GetAsync(path), HttpStatusCode.BadRequest, problem);
    }

    [Theory]
    [InlineData("", "fabric.v1")]
    [InlineData("bad customer", "fabric.v1")]
    [InlineData("acme", "other.v2")]
    public async Task Socket_with_an_invalid_customer_or_subprotocol_is_refused_before_upgrade(string customer, string subProtocol)
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(subProtocol);
        socket.Options.CollectHttpResponseDetails = true;
        var uri = new Uri($"ws://{fixture.BaseAddress.Authority}/v1/ws?customer={Uri.EscapeDataString(customer)}");
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, socket.HttpStatusCode);
    }

    [Fact]
    public async Task A_socket_for_an_unknown_customer_is_refused_with_404_before_the_upgrade_when_an_operator_asks()
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + GatewayFixture.AdminKey);
        var uri = new Uri($"ws://{fixture.BaseAddress.Authority}/v1/ws?customer={GatewayFixture.NewCustomerId()}");
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, socket.HttpStatusCode);
    }
}
