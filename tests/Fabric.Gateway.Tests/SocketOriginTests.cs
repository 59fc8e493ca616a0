using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Tests;

/// <summary>
/// <c>Fabric:Sockets:AllowedOrigins</c>: a browser page from another site cannot open a socket; the listed sites and
/// clients that send no <c>Origin</c> (servers, apps) can.
/// </summary>
public sealed class SocketOriginTests : IAsyncLifetime
{
    private const string AllowedOrigin = "https://app.example.com";
    private TestGateway _gateway = null!;

    private Uri BaseAddress => _gateway.Http.BaseAddress!;

    public async Task InitializeAsync() =>
        _gateway = await TestGateway.StartAsync(new() { ["Fabric:Sockets:AllowedOrigins:0"] = AllowedOrigin });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("http://app.example.com")]
    [InlineData("null")]
    public async Task Socket_from_a_disallowed_origin_is_refused_before_the_upgrade(string origin)
    {
        using var connection = await RawHttpConnection.OpenAsync(BaseAddress);
        await connection.SendAsync(
            $"GET /v1/ws?customer={GatewayFixture.NewCustomerId()} HTTP/1.1\r\nHost: fabric\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: fabric.v1\r\nOrigin: {origin}\r\n\r\n");

        var response = await connection.ReadResponseAsync();

        Assert.True(response.Status == 403, $"{response.Status}: {response.Body}");
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.EndsWith("/forbidden-origin", JsonDocument.Parse(response.Body).RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(AllowedOrigin)]
    [InlineData("HTTPS://App.Example.com")]
    [InlineData(null)]
    public async Task Socket_from_an_allowed_origin_or_without_one_connects(string? origin)
    {
        await using var socket = await FabricSocket.ConnectAsync(BaseAddress, await RegisterAsync(), origin);
        Assert.Equal("fabric.v1", socket.SubProtocol);
    }

    private async Task<string> RegisterAsync()
    {
        var customer = GatewayFixture.NewCustomerId();
        (await _gateway.Http.PutAsync($"/v1/admin/customers/{customer}", null)).EnsureSuccessStatusCode();
        return customer;
    }

    [Fact]
    public async Task An_allowed_origin_without_its_scheme_stops_the_start()
    {
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            GatewayFixture.StartGatewayAsync(new() { ["Fabric:Sockets:AllowedOrigins:0"] = "app.example.com" }));
        Assert.Contains("app.example.com", refused.Message, StringComparison.Ordinal);
    }
}
