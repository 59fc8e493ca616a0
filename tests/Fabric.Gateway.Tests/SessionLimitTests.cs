using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;

namespace Fabric.Gateway.Tests;

/// <summary>
/// Sessions under trouble, each on a gateway of its own with tight settings: the per-customer and per-gateway limits,
/// a client that floods, a token that expires, and the drain on shutdown.
/// </summary>
public sealed class SessionLimitTests
{
    [Fact]
    public async Task A_customer_over_its_connection_limit_is_refused_with_429_before_the_upgrade()
    {
        await using var gateway = await TestGateway.StartAsync(new() { ["Fabric:Sockets:MaxConnectionsPerCustomer"] = "2" });
        var a = await SessionCustomer.CreateAsync(gateway.Http);
        var token = await a.TokenAsync("alice");
        await using var first = await FabricSocket.ConnectAsync(gateway.Http.BaseAddress!, a.Id, credential: token, inQuery: true);
        await using var second = await FabricSocket.ConnectAsync(gateway.Http.BaseAddress!, a.Id, credential: token, inQuery: true);

        Assert.Equal(HttpStatusCode.TooManyRequests, (await SessionAsserts.HandshakeAsync(gateway.Http.BaseAddress!, a.Id, token, inQuery: true)).Status);

        // Another customer is not affected, and a socket that leaves frees its place.
        var b = await SessionCustomer.CreateAsync(gateway.Http);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await SessionAsserts.HandshakeAsync(gateway.Http.BaseAddress!, b.Id, await b.TokenAsync("bob"), inQuery: true)).Status);
        await first.DisposeAsync();
        await Eventually.True(async () =>
            (await SessionAsserts.HandshakeAsync(gateway.Http.BaseAddress!, a.Id, token, inQuery: true)).Status == HttpStatusCode.SwitchingProtocols);
    }

    [Fact]
    public async Task A_gateway_over_its_connection_limit_refuses_with_429_from_the_rate_limiter()
    {
        await using var gateway = await TestGateway.StartAsync(new() { ["Fabric:Sockets:MaxConnections"] = "1" });
        var a = await SessionCustomer.CreateAsync(gateway.Http);
        var token = await a.TokenAsync("alice");
        await using var first = await FabricSocket.ConnectAsync(gateway.Http.BaseAddress!, a.Id, credential: token, inQuery: true);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SessionAsserts.HandshakeAsync(gateway.Http.BaseAddress!, a.Id, token, inQuery: true)).Status);
    }

    [Fact]
    public async Task New_sockets_beyond_the_connection_rate_are_refused_with_429()
    {
        await using var gateway = await TestGateway.StartAsync(new()
        {
            ["Fabric:Sockets:NewConnectionsPerSecond"] = "1",
            ["Fabric:Sockets:NewConnectionBurst"] = "2",
        });
        var a = await SessionCustomer.CreateAsync(gateway.Http);
        var token = await a.TokenAsync("alice");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await SessionAsserts.HandshakeAsync(gateway.Http.BaseAddress!, a.Id, token, inQuery: true)).Status);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, statuses[0]);
    }

    [Fact]
    public async Task A_client_sending_faster_than_its_rate_gets_an_error_then_4008()
    {
        await using var gateway = await TestGateway.StartAsync(new() { ["Fabric:Sockets:MessagesPerSecond"] = "1", ["Fabric:Sockets:MessageBurst"] = "3" });
        var a = await SessionCustomer.CreateAsync(gateway.Http);
        await using var socket = await FabricSocket.ConnectAsync(gateway.Http.BaseAddress!, a.Id, credential: await a.TokenAsync("alice"), inQuery: true);
        for (var i = 0; i < 10; i++)
        {
            await socket.SendAsync(new { op = "ping" });
        }

        var codes = new List<string?>();
        while (await socket.TryReceiveAsync(TimeSpan.FromSeconds(10)) is { } frame)
        {
            codes.Add(frame.TryGetProperty("code", out var code) ? code.GetString() : frame.GetProperty("op").GetString());
        }

        Assert.Equal(["pong", "pong", "pong", "rate_limited"], codes.Take(4));
        Assert.Equal((WebSocketCloseStatus)4008, socket.CloseStatus);
    }

    [Fact]
    public async Task A_socket_whose_token_expires_is_closed_with_4201_and_a_refreshed_one_is_not()
    {
        await using var gateway = await TestGateway.StartAsync(new() { ["Fabric:Sockets:TokenClockSkew"] = "00:00:00" });
        var a = await SessionCustomer.CreateAsync(gateway.Http);
        await using var expiring = await FabricSocket.ConnectAsync(gateway.Http.BaseAddress!, a.Id, credential: await a.TokenAsync("alice", lifetime: TimeSpan.FromSeconds(3)), inQuery: true);
        await using var refreshed = await FabricSocket.ConnectAsync(gateway.Http.BaseAddress!, a.Id, credential: await a.TokenAsync("bob", lifetime: TimeSpan.FromSeconds(3)), inQuery: true);
        await refreshed.SendAsync(new { op = "refresh", token = await a.TokenAsync("bob") });
        Assert.Equal("refreshed", (await refreshed.ReceiveAsync()).GetProperty("op").GetString());

        Assert.Equal((WebSocketCloseStatus)4201, await expiring.WaitForCloseAsync());
        await refreshed.SendAsync(new { op = "ping" });
        Assert.Equal("pong", (await refreshed.ReceiveAsync()).GetProperty("op").GetString());
    }

    [Fact]
    public async Task Shutdown_drains_every_socket_with_4200_in_batches_and_refuses_new_ones()
    {
        var logs = new CapturingLoggerProvider();
        var gateway = await TestGateway.StartAsync(
            new() { ["Fabric:Sockets:DrainWindow"] = "00:00:01", ["Fabric:Sockets:DrainBatchInterval"] = "00:00:00.100" },
            builder => builder.Logging.AddProvider(logs));
        var a = await SessionCustomer.CreateAsync(gateway.Http);
        var token = await a.TokenAsync("alice");
        var sockets = new List<FabricSocket>();
        for (var i = 0; i < 30; i++)
        {
            sockets.Add(await FabricSocket.ConnectAsync(gateway.Http.BaseAddress!, a.Id, credential: token, inQuery: true));
        }

        var closes = sockets.Select(s => s.WaitForCloseAsync()).ToList();
        var address = gateway.Http.BaseAddress!;
        var stopping = gateway.DisposeAsync().AsTask();
        await Task.WhenAny(closes);
        // Draining: no new socket is let in (503 while the drain runs; refused outright once Kestrel stops).
        Assert.NotEqual(HttpStatusCode.SwitchingProtocols, (await SessionAsserts.HandshakeAsync(address, a.Id, token, inQuery: true)).Status);
        await stopping;

        Assert.All(await Task.WhenAll(closes), status => Assert.Equal((WebSocketCloseStatus)4200, status));
        Assert.Contains(logs.Lines, line => line.Contains("Draining 30 sockets in 10 batches", StringComparison.Ordinal));
        foreach (var socket in sockets)
        {
            await socket.DisposeAsync();
        }
    }
}
