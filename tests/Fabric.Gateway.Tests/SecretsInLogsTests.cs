using System.Net;
using System.Text;
using System.Net.Http.Json;
using Fabric.Gateway.Tests.Outbound;
using Fabric.Gateway.Tests.Wasm;
using Fabric.Gateway.Tests.Webhooks;
using Microsoft.Extensions.Logging;

namespace Fabric.Gateway.Tests;

/// <summary>
/// Every log line at every level, captured while secrets, keys and payloads go through the gateway the right way and
/// the wrong way: none of them ever appears in a message or an exception.
/// </summary>
public sealed class SecretsInLogsTests : IAsyncLifetime
{
    private const string Secret = "whsec_NeverLogThisSecret0123456789ab";
    private const string PayloadMarker = "payload-marker-7f3a";
    private const string ConfigMarker = "module-config-marker-91c2";
    private const string ResponseMarker = "receiver-response-marker-4e6d";
    private readonly CapturingLoggerProvider _logs = new();
    private Receiver _receiver = null!;
    private TestGateway _gateway = null!;

    private HttpClient Http => _gateway.Http;

    public async Task InitializeAsync()
    {
        _receiver = await Receiver.StartAsync();
        _gateway = await TestGateway.StartAsync(
            new() { ["Fabric:Outbound:AllowedHosts:0"] = "127.0.0.1", ["Fabric:Outbound:RetryJitter"] = "0" },
            builder => builder.Logging.ClearProviders().AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    /// <summary>
    /// The whole path at every log level: a signed webhook through a customer's Wasm module (which traps, under a
    /// config of its own), to a subscribed socket and to two endpoints (one failing with a body, then retried, one
    /// taking it): no secret, config, payload or response body reaches a log line.
    /// </summary>
    [Fact]
    public async Task A_full_run_through_wasm_sockets_and_endpoints_logs_no_secret_config_payload_or_response()
    {
        var customer = GatewayFixture.NewCustomerId();
        (await Http.PutAsync($"/v1/admin/customers/{customer}", null)).EnsureSuccessStatusCode();
        var source = new StringContent($$"""{"scheme":"stripe","secrets":["{{Secret}}"]}""", Encoding.UTF8, "application/json");
        (await Http.PutAsync($"/v1/admin/customers/{customer}/sources/stripe", source)).EnsureSuccessStatusCode();
        await Http.AttachAsync(TransformKit.SourcePath(customer, "stripe"), Modules.Spin, config: new { apiToken = ConfigMarker });

        var failing = _receiver.Path((_, n) => n == 0 ? new Answer(500, Body: ResponseMarker) : new Answer(200, Body: ResponseMarker));
        var taking = _receiver.Path((_, _) => new Answer(204));
        var secrets = new List<string>();
        foreach (var (path, schedule) in new[] { (failing, new[] { "00:00:01" }), (taking, Array.Empty<string>()) })
        {
            var created = await Http.PostAsJsonAsync($"/v1/admin/customers/{customer}/endpoints", new { url = _receiver.Url(path), retrySchedule = schedule.Length > 0 ? schedule : null });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            secrets.Add((await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("secret").GetString()!);
        }

        await using var socket = await FabricSocket.ConnectAsync(Http.BaseAddress!, customer);
        await socket.SubscribeAsync(["*"]);
        var body = $$"""{"id":"evt_full_1","type":"charge.succeeded","note":"{{PayloadMarker}}"}""";
        var signed = (await Signers.SignAsync(new { scheme = "stripe", secret = Secret, body, timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() }))[0];
        Assert.Equal(HttpStatusCode.Accepted, (await WebhookRequests.SendAsync(Http, $"/v1/webhooks/{customer}/stripe", signed)).StatusCode);

        Assert.Contains(PayloadMarker, (await socket.ReceiveEventsAsync(1))[0].GetRawText(), StringComparison.Ordinal);
        await Eventually.True(() => _receiver.Got(failing).Count == 2 && _receiver.Got(taking).Count == 1, TimeSpan.FromSeconds(30));
        Assert.Contains(PayloadMarker, _receiver.Got(taking)[0].Body, StringComparison.Ordinal);

        Assert.NotEmpty(_logs.Lines);
        var signature = signed.Headers["Stripe-Signature"].Split("v1=")[1];
        var sent = _receiver.Got(taking)[0].Header("webhook-signature");
        foreach (var needle in new[] { Secret, GatewayFixture.AdminKey, PayloadMarker, ConfigMarker, ResponseMarker, signature, sent.Split(',')[1], secrets[0], secrets[1], secrets[1]["whsec_".Length..] })
        {
            Assert.DoesNotContain(_logs.Lines, line => line.Contains(needle, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task No_secret_key_token_or_payload_is_ever_logged()
    {
        var customer = GatewayFixture.NewCustomerId();
        (await Http.PutAsync($"/v1/admin/customers/{customer}", null)).EnsureSuccessStatusCode();
        var source = new StringContent($$"""{"scheme":"stripe","secrets":["{{Secret}}"]}""", Encoding.UTF8, "application/json");
        (await Http.PutAsync($"/v1/admin/customers/{customer}/sources/stripe", source)).EnsureSuccessStatusCode();
        var created = await Http.PostAsync($"/v1/admin/customers/{customer}/keys", new StringContent("""{"scopes":["publish"]}""", Encoding.UTF8, "application/json"));
        var key = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;

        var body = $$"""{"id":"evt_log_1","type":"charge.succeeded","note":"{{PayloadMarker}}"}""";
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signed = (await Signers.SignAsync(new { scheme = "stripe", secret = Secret, body, timestamp = now }))[0];
        Assert.Equal(HttpStatusCode.Accepted, (await WebhookRequests.SendAsync(Http, $"/v1/webhooks/{customer}/stripe", signed)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await WebhookRequests.SendAsync(Http, $"/v1/webhooks/{customer}/stripe", signed with { Body = body + " " })).StatusCode);

        using var publish = new HttpRequestMessage(HttpMethod.Post, $"/v1/customers/{customer}/events")
        {
            Content = new StringContent($$"""{"type":"t","data":"{{PayloadMarker}}"}""", Encoding.UTF8, "application/json"),
        };
        publish.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.Accepted, (await Http.SendAsync(publish)).StatusCode);
        using var forged = new HttpRequestMessage(HttpMethod.Get, $"/v1/customers/{customer}/events");
        forged.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key + "forged");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Http.SendAsync(forged)).StatusCode);

        // Sockets: a connection token in the query (as browsers send it), a forged one, a publish and a refresh.
        var sessions = await SessionCustomer.CreateAsync(Http);
        var token = await sessions.TokenAsync("alice", pubTopics: ["*"]);
        var forgedToken = token[..^4] + "AAAA";
        Assert.Equal(HttpStatusCode.Unauthorized, (await SessionAsserts.HandshakeAsync(Http.BaseAddress!, sessions.Id, forgedToken, inQuery: true)).Status);
        await using (var socket = await FabricSocket.ConnectAsync(Http.BaseAddress!, sessions.Id, credential: token, inQuery: true))
        {
            await socket.SubscribeAsync(["*"]);
            await socket.PublishAsync("chat.room1", new { note = PayloadMarker }, @ref: "p");
            await socket.ReceiveOpAsync("published");
            await socket.SendAsync(new { op = "refresh", token = forgedToken });
            await socket.ReceiveOpAsync("error");
        }

        Assert.NotEmpty(_logs.Lines);
        var signature = signed.Headers["Stripe-Signature"].Split("v1=")[1];
        foreach (var needle in new[] { Secret, key, key.Split('~')[3], GatewayFixture.AdminKey, PayloadMarker, signature, sessions.Secret, token, forgedToken, token.Split('.')[2] })
        {
            Assert.DoesNotContain(_logs.Lines, line => line.Contains(needle, StringComparison.Ordinal));
        }
    }
}
