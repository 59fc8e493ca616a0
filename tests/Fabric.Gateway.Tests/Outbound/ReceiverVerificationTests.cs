using System.Net.Http.Json;
using System.Text.Json;
using Fabric.Gateway.Tests.Webhooks;
using Microsoft.AspNetCore.Http;

namespace Fabric.Gateway.Tests.Outbound;

/// <summary>
/// What docs/outbound.md tells a receiver to do, done with the official libraries on the real clock: the C#
/// <c>StandardWebhooks</c> package and npm <c>standardwebhooks</c> both verify a delivery, and reject it once its
/// body is changed.
/// </summary>
public sealed class ReceiverVerificationTests
{
    [Fact]
    public async Task A_delivery_verifies_with_the_CSharp_and_Node_Standard_Webhooks_libraries_and_a_tampered_one_does_not()
    {
        await using var receiver = await Receiver.StartAsync();
        await using var gateway = await TestGateway.StartAsync(new Dictionary<string, string?> { ["Fabric:Outbound:AllowedHosts:0"] = "127.0.0.1" });
        var customer = await gateway.NewCustomerAsync();
        var path = receiver.Path((_, _) => new Answer(204));
        var created = await gateway.Http.PostAsJsonAsync($"/v1/admin/customers/{customer}/endpoints", new { url = receiver.Url(path) });
        var secret = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;

        (await gateway.PostWebhookAsync(customer, """{"type":"invoice.paid","total":1999,"note":"ünïcödé"}""")).EnsureSuccessStatusCode();
        await Eventually.True(() => receiver.Got(path).Count == 1);
        var delivery = receiver.Got(path)[0];

        var headers = new HeaderDictionary();
        foreach (var name in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
        {
            headers[name] = delivery.Header(name);
        }

        var webhook = new StandardWebhooks.StandardWebhook(secret);
        webhook.Verify(delivery.Body, headers);
        Assert.ThrowsAny<Exception>(() => webhook.Verify(delivery.Body.Replace("1999", "1", StringComparison.Ordinal), headers));

        var node = new VerifyRequest(secret, headers.ToDictionary(h => h.Key, h => h.Value.ToString()), delivery.Body);
        var verdicts = await Signers.VerifyAsync(node, node with { Body = delivery.Body.Replace("1999", "1", StringComparison.Ordinal) });
        Assert.Null(verdicts[0]);
        Assert.NotNull(verdicts[1]);
        Assert.Equal("ünïcödé", JsonDocument.Parse(delivery.Body).RootElement.GetProperty("data").GetProperty("note").GetString());
    }
}
