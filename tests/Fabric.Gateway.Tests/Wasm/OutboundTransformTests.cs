using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fabric.Gateway.Tests.Outbound;
using Fabric.Gateway.Tests.Webhooks;

namespace Fabric.Gateway.Tests.Wasm;

/// <summary>
/// Outbound transforms against a real receiver: an endpoint's module shapes the body that endpoint receives (signed
/// over the shaped bytes), drops events for it, or — when it fails — keeps the message failed rather than sending a
/// body it could not shape. The log, and other endpoints, keep the event as it was.
/// </summary>
[Collection(OutboundCollection.Name)]
public sealed class OutboundTransformTests(OutboundFixture fixture)
{
    [Fact]
    public async Task A_replacing_module_shapes_this_endpoints_body_only_and_the_signature_covers_it()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var shaped = fixture.Receiver.Path((_, _) => new Answer(200));
        var plain = fixture.Receiver.Path((_, _) => new Answer(200));
        var (endpoint, secret) = await fixture.CreateEndpointAsync(customer, shaped);
        await fixture.CreateEndpointAsync(customer, plain);
        var view = await fixture.Http.AttachAsync(TransformKit.EndpointPath(customer, endpoint), Modules.Returning("""{"type":"for.them","data":{"shape":"theirs"}}"""));
        Assert.Equal(("outbound", "reject"), (view.GetProperty("stage").GetString(), view.GetProperty("onError").GetString()));

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid","amount":42}""");
        await Eventually.True(() => fixture.Receiver.Got(shaped).Count == 1 && fixture.Receiver.Got(plain).Count == 1);

        var got = fixture.Receiver.Got(shaped)[0];
        var body = JsonDocument.Parse(got.Body).RootElement;
        Assert.Equal("for.them", body.GetProperty("type").GetString());
        Assert.Equal("""{"shape":"theirs"}""", body.GetProperty("data").GetRawText());
        Assert.Null((await Signers.VerifyAsync(VerifyRequest.Of(secret, got.Headers, got.Body)))[0]);

        var other = JsonDocument.Parse(fixture.Receiver.Got(plain)[0].Body).RootElement;
        Assert.Equal("order.paid", other.GetProperty("type").GetString());
        Assert.Equal("order.paid", Assert.Single(await fixture.Http.HistoryAsync(customer)).Type());
    }

    [Fact]
    public async Task A_dropping_module_settles_the_message_without_a_POST_and_the_next_one_is_delivered()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, _) => new Answer(200));
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, path, new { ordered = true });
        await fixture.Http.AttachAsync(TransformKit.EndpointPath(customer, endpoint), Modules.Drop);

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"noise"}""");
        await Eventually.True(async () => (await fixture.MessagesAsync(customer, endpoint, "delivered")).GetArrayLength() == 1);
        var message = (await fixture.MessagesAsync(customer, endpoint, "delivered"))[0];
        Assert.Equal("dropped", message.GetProperty("reason").GetString());
        Assert.Equal(0, message.GetProperty("attempts").GetArrayLength());
        Assert.Empty(fixture.Receiver.Got(path));

        // Detached: the next event goes out as it was posted.
        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Http.DeleteAsync(TransformKit.EndpointPath(customer, endpoint))).StatusCode);
        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"signal"}""");
        await Eventually.True(() => fixture.Receiver.Got(path).Count == 1);
        Assert.Equal("signal", JsonDocument.Parse(fixture.Receiver.Got(path)[0].Body).RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Keep_and_init_config_reach_the_endpoint()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var kept = fixture.Receiver.Path((_, _) => new Answer(200));
        var configured = fixture.Receiver.Path((_, _) => new Answer(200));
        var (keep, _) = await fixture.CreateEndpointAsync(customer, kept);
        var (echo, _) = await fixture.CreateEndpointAsync(customer, configured);
        await fixture.Http.AttachAsync(TransformKit.EndpointPath(customer, keep), Modules.Keep);
        await fixture.Http.AttachAsync(TransformKit.EndpointPath(customer, echo), Modules.EchoConfig, config: new { audience = "partner" });

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid","amount":42}""");
        await Eventually.True(() => fixture.Receiver.Got(kept).Count == 1 && fixture.Receiver.Got(configured).Count == 1);
        Assert.Equal(42, JsonDocument.Parse(fixture.Receiver.Got(kept)[0].Body).RootElement.GetProperty("data").GetProperty("amount").GetInt32());
        Assert.Equal("""{"audience":"partner"}""", JsonDocument.Parse(fixture.Receiver.Got(configured)[0].Body).RootElement.GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task A_failing_module_fails_the_message_by_default_and_a_retry_after_the_fix_delivers_it()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, _) => new Answer(200));
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, path);
        await fixture.Http.AttachAsync(TransformKit.EndpointPath(customer, endpoint), Modules.Spin);

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid","card":"4242"}""");
        await Eventually.True(async () => (await fixture.MessagesAsync(customer, endpoint, "failed")).GetArrayLength() == 1);
        var failed = (await fixture.MessagesAsync(customer, endpoint, "failed"))[0];
        Assert.Equal("transform-fuel", failed.GetProperty("reason").GetString());
        Assert.Empty(fixture.Receiver.Got(path));
        var view = await fixture.Http.GetFromJsonAsync<JsonElement>(TransformKit.EndpointPath(customer, endpoint));
        Assert.Equal("fuel", view.GetProperty("recentErrors")[0].GetProperty("kind").GetString());
        Assert.DoesNotContain("4242", view.GetRawText(), StringComparison.Ordinal);

        await fixture.Http.AttachAsync(TransformKit.EndpointPath(customer, endpoint), Modules.Keep);
        var retry = await fixture.Http.PostAsync($"/v1/admin/customers/{customer}/endpoints/{endpoint}/messages/{failed.GetProperty("eventId").GetString()}/retry", null);
        Assert.True(retry.IsSuccessStatusCode, await retry.Content.ReadAsStringAsync());
        await Eventually.True(() => fixture.Receiver.Got(path).Count == 1);
    }

    [Fact]
    public async Task Keep_policy_sends_the_event_unchanged_when_the_module_fails()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, _) => new Answer(200));
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, path);
        await fixture.Http.AttachAsync(TransformKit.EndpointPath(customer, endpoint), Modules.Trap, onError: "keep");
        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid"}""");
        await Eventually.True(() => fixture.Receiver.Got(path).Count == 1);
        Assert.Equal("order.paid", JsonDocument.Parse(fixture.Receiver.Got(path)[0].Body).RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Endpoint_transforms_answer_404_for_unknown_endpoints_and_refuse_keepOriginal()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var missing = "ep_" + new string('0', 20);
        Assert.Equal("unknown-endpoint", await TransformKit.ProblemAsync(await TransformKit.PutAsync(fixture.Http, TransformKit.EndpointPath(customer, missing), Modules.Keep), HttpStatusCode.NotFound));
        Assert.Equal("unknown-endpoint", await TransformKit.ProblemAsync(await fixture.Http.GetAsync(TransformKit.EndpointPath(customer, missing)), HttpStatusCode.NotFound));
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, fixture.Receiver.Path((_, _) => new Answer(200)));
        Assert.Equal("no-transform", await TransformKit.ProblemAsync(await fixture.Http.GetAsync(TransformKit.EndpointPath(customer, endpoint)), HttpStatusCode.NotFound));
        Assert.Equal("invalid-keep-original", await TransformKit.ProblemAsync(await TransformKit.PutAsync(fixture.Http, TransformKit.EndpointPath(customer, endpoint), Modules.Keep, keepOriginal: true), HttpStatusCode.BadRequest));
    }
}
