using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Fabric.Gateway.Tests.Webhooks;

namespace Fabric.Gateway.Tests;

/// <summary>
/// A customer set up for sessions through the admin API: a signing key (its secret as the admin API returned it) and
/// API keys, with connection tokens signed by npm <c>jose</c>, never by Fabric's code.
/// </summary>
internal sealed record SessionCustomer(HttpClient Admin, string Id, string KeyId, string Secret)
{
    public static async Task<SessionCustomer> CreateAsync(HttpClient admin)
    {
        var id = await GatewayFixture.NewCustomerAsync(admin);
        var created = await admin.PostAsync($"/v1/admin/customers/{id}/signing-keys", null);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        return new SessionCustomer(admin, id, body.GetProperty("id").GetString()!, body.GetProperty("secret").GetString()!);
    }

    /// <summary>A new API key with the given scopes.</summary>
    public async Task<string> ApiKeyAsync(params string[] scopes)
    {
        var response = await Admin.PostAsJsonAsync($"/v1/admin/customers/{Id}/keys", new { scopes });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    /// <summary>A token for <paramref name="sub"/>, valid for <paramref name="lifetime"/> (default an hour; negative = expired).</summary>
    public async Task<string> TokenAsync(
        string sub, string[]? subTopics = null, string[]? pubTopics = null, object? info = null, TimeSpan? lifetime = null, string? kid = null, string? customer = null, string? secret = null)
    {
        var claims = new Dictionary<string, object?>
        {
            ["sub"] = sub,
            ["customer"] = customer ?? Id,
            ["exp"] = DateTimeOffset.UtcNow.Add(lifetime ?? TimeSpan.FromHours(1)).ToUnixTimeSeconds(),
        };
        if (subTopics is not null)
        {
            claims["sub_topics"] = subTopics;
        }

        if (pubTopics is not null)
        {
            claims["pub_topics"] = pubTopics;
        }

        if (info is not null)
        {
            claims["info"] = info;
        }

        return (await Signers.TokensAsync(new TokenRequest(secret ?? Secret, kid ?? KeyId, claims)))[0];
    }
}

internal static class SessionAsserts
{
    /// <summary>Opens a socket with the credential and returns the HTTP status of a refused handshake (101 when accepted).</summary>
    public static async Task<(HttpStatusCode Status, string? Problem)> HandshakeAsync(Uri baseAddress, string customer, string? credential, bool inQuery)
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("fabric.v1");
        socket.Options.CollectHttpResponseDetails = true;
        if (credential is not null && !inQuery)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + credential);
        }

        var query = credential is not null && inQuery ? "&access_token=" + Uri.EscapeDataString(credential) : "";
        try
        {
            await socket.ConnectAsync(new Uri($"ws://{baseAddress.Authority}/v1/ws?customer={customer}{query}"), CancellationToken.None);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            return (HttpStatusCode.SwitchingProtocols, null);
        }
        catch (WebSocketException)
        {
            return (socket.HttpStatusCode, null);
        }
    }

    /// <summary>The next frame's op and ref.</summary>
    public static async Task<(string? Op, string? Ref)> ReceiveOpRefAsync(this FabricSocket socket)
    {
        var frame = await socket.ReceiveAsync();
        return (frame.GetProperty("op").GetString(), frame.TryGetProperty("ref", out var r) ? r.GetString() : null);
    }

    /// <summary>Reads frames until one with the op arrives, failing on a close; returns it.</summary>
    public static async Task<JsonElement> ReceiveOpAsync(this FabricSocket socket, string op)
    {
        for (var i = 0; i < 1000; i++)
        {
            var frame = await socket.ReceiveAsync();
            if (frame.GetProperty("op").GetString() == op)
            {
                return frame;
            }
        }

        throw new InvalidOperationException("no " + op);
    }

    public static Task PublishAsync(this FabricSocket socket, string topic, object data, string? @ref = null, string? id = null) =>
        socket.SendAsync(new Dictionary<string, object?> { ["op"] = "publish", ["topic"] = topic, ["data"] = data, ["ref"] = @ref, ["id"] = id }
            .Where(p => p.Value is not null).ToDictionary());

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
