using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Fabric.Gateway.Tests;

/// <summary>
/// Clients that send too slowly or go away mid-request, on gateways of their own with short limits: the answer is 408
/// problem+json, nothing is stored, and a client that merely disconnects leaves no warning or error in the log.
/// </summary>
public sealed class SlowClientTests
{
    private const int DeclaredLength = 60_000;

    [Fact]
    public async Task A_webhook_body_trickled_past_the_request_timeout_gets_408_and_is_not_stored()
    {
        // No minimum data rate here, so only the request timeout can end the request.
        await using var gateway = await TestGateway.StartAsync(new()
        {
            ["Fabric:Http:RequestTimeout"] = "00:00:01",
            ["Fabric:Http:MinRequestBodyBytesPerSecond"] = "0",
        });
        var customer = await RegisterAsync(gateway);

        var response = await TrickleWebhookAsync(gateway, customer);

        await AssertTimedOutAsync(gateway, customer, response);
    }

    [Fact]
    public async Task A_webhook_body_below_the_minimum_data_rate_gets_408_and_is_not_stored()
    {
        await using var gateway = await TestGateway.StartAsync(new()
        {
            ["Fabric:Http:RequestTimeout"] = "01:00:00",
            ["Fabric:Http:MinRequestBodyBytesPerSecond"] = "4096",
            ["Fabric:Http:MinDataRateGracePeriod"] = "00:00:02",
        });
        var customer = await RegisterAsync(gateway);

        var response = await TrickleWebhookAsync(gateway, customer);

        await AssertTimedOutAsync(gateway, customer, response);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_body_stores_nothing_and_logs_no_warning_or_error()
    {
        var logs = new CapturingLoggerProvider();
        await using var gateway = await TestGateway.StartAsync(
            new() { ["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug" },
            builder => builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var customer = await RegisterAsync(gateway);

        using (var connection = await RawHttpConnection.OpenAsync(gateway.Http.BaseAddress!))
        {
            await connection.SendAsync(WebhookHead(customer) + "{\"type\":\"gone\"");
        }

        // The test's HttpClient keeps its connection, so the one Kestrel reports stopped is the dropped one; anything
        // the disconnect logs comes before that.
        await Eventually.True(() => logs.Lines.Any(l => l.StartsWith("Debug Microsoft.AspNetCore.Server.Kestrel.Connections", StringComparison.Ordinal) && l.Contains("stopped", StringComparison.Ordinal)));
        Assert.DoesNotContain(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) || (l.StartsWith("Warning", StringComparison.Ordinal) && !l.StartsWith("Warning Orleans", StringComparison.Ordinal)));
        Assert.Equal(0, await LastSeqAsync(gateway, customer));
    }

    [Fact]
    public async Task A_socket_outlives_the_request_timeout()
    {
        await using var gateway = await TestGateway.StartAsync(new() { ["Fabric:Http:RequestTimeout"] = "00:00:01" });
        var customer = await RegisterAsync(gateway);
        await using var socket = await FabricSocket.ConnectAsync(gateway.Http.BaseAddress!, customer);
        await socket.SubscribeAsync(["*"]);

        // Past the request timeout, which covers the handshake only (the WebSocket middleware lifts it on accept).
        await Task.Delay(TimeSpan.FromSeconds(2));
        var posted = await gateway.Http.PostAsync($"/v1/webhooks/{customer}/s", new StringContent("""{"type":"later"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, posted.StatusCode);
        Assert.Equal("later", Assert.Single(await socket.ReceiveEventsAsync(1)).Type());
    }

    /// <summary>Starts a webhook whose body then arrives a byte every 100 ms, and returns the gateway's answer.</summary>
    private static async Task<RawResponse> TrickleWebhookAsync(TestGateway gateway, string customer)
    {
        using var connection = await RawHttpConnection.OpenAsync(gateway.Http.BaseAddress!);
        await connection.SendAsync(WebhookHead(customer) + "{\"type\":\"slow\",\"pad\":\"");
        using var stop = new CancellationTokenSource();
        var trickle = TrickleAsync(connection, stop.Token);
        var response = await connection.ReadResponseAsync();
        await stop.CancelAsync();
        await trickle;
        return response;
    }

    private static async Task TrickleAsync(RawHttpConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await connection.SendAsync("x");
                await Task.Delay(100, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // Stopped, or the server closed the connection after its answer.
        }
    }

    private static async Task AssertTimedOutAsync(TestGateway gateway, string customer, RawResponse response)
    {
        Assert.True(response.Status == 408, $"{response.Status}: {response.Body}");
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.EndsWith("/request-timeout", JsonDocument.Parse(response.Body).RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await LastSeqAsync(gateway, customer));
    }

    private static string WebhookHead(string customer) =>
        $"POST /v1/webhooks/{customer}/s HTTP/1.1\r\nHost: fabric\r\nContent-Type: application/json\r\nContent-Length: {DeclaredLength}\r\n\r\n";

    private static async Task<string> RegisterAsync(TestGateway gateway)
    {
        var customer = GatewayFixture.NewCustomerId();
        (await gateway.Http.PutAsync($"/v1/admin/customers/{customer}", null)).EnsureSuccessStatusCode();
        (await gateway.Http.PutAsync($"/v1/admin/customers/{customer}/sources/s", new StringContent("""{"scheme":"none"}""", System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        return customer;
    }

    private static async Task<long> LastSeqAsync(TestGateway gateway, string customer) =>
        (await gateway.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("lastSeq").GetInt64();
}
