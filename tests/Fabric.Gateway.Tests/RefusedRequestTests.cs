using System.Net.Http.Json;
using System.Text.Json;

namespace Fabric.Gateway.Tests;

/// <summary>
/// A request refused before its body is read is still answered: the gateway reads what the client is sending before it
/// closes, so the client reads its 431 instead of a connection reset (Fabric:Http:CloseLinger).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class RefusedRequestTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_client_still_sending_its_body_when_its_headers_are_refused_reads_the_431()
    {
        var customer = await fixture.NewCustomerAsync();
        var body = new string('b', 256 * 1024);

        for (var i = 0; i < 20; i++)
        {
            using var raw = await RawHttpConnection.OpenAsync(fixture.BaseAddress);
            await raw.SendAsync(
                $"POST /v1/webhooks/{customer}/{GatewayFixture.TestSource} HTTP/1.1\r\nHost: fabric\r\nContent-Type: application/json\r\n"
                + $"X-Padding: {new string('h', 40_000)}\r\nContent-Length: {body.Length}\r\n\r\n");
            // As HttpClient does: the body follows the headers in writes of its own, here after the refusal is sent.
            await Task.Delay(20);
            for (var sent = 0; sent < body.Length; sent += 16 * 1024)
            {
                await raw.SendAsync(body.Substring(sent, 16 * 1024));
            }

            var response = await raw.ReadResponseAsync();

            Assert.Equal(431, response.Status);
        }

        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("lastSeq").GetInt64());
    }
}
