using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fabric.Gateway.Tests.Outbound;

namespace Fabric.Gateway.Tests.Wasm;

/// <summary>
/// The two modules users copy from examples/wasm, built from source by its build script (AssemblyScript with asc, C
/// with clang for wasm32), attached through the admin API and fed real-shaped provider payloads.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ExampleModuleTests(GatewayFixture fixture)
{
    [Fact]
    public async Task The_AssemblyScript_normaliser_turns_Stripe_GitHub_and_Shopify_payloads_into_one_shape()
    {
        var customer = await fixture.NewCustomerAsync();
        await fixture.Http.AttachAsync(TransformKit.SourcePath(customer), Modules.Example("normalise"));
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["*"]);

        await fixture.PostWebhookAsync(customer, """
            {"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":4200,"currency":"usd","customer":"cus_9"}}}
            """);
        await fixture.PostWebhookAsync(customer, """
            {"type":"issues","action":"opened","issue":{"number":7},"sender":{"login":"octocat","id":1}}
            """);
        await fixture.PostWebhookAsync(customer, """
            {"type":"orders/create","id":820982911946154500,"total_price":"12.34","email":"a@shop.example","customer":{"email":"b@shop.example"}}
            """);
        await fixture.PostWebhookAsync(customer, """{"type":"something.else","x":1}""");

        var events = await socket.ReceiveEventsAsync(4);
        var stripe = events[0].GetProperty("data");
        Assert.Equal("payment_intent.succeeded", stripe.GetProperty("kind").GetString());
        Assert.Equal(4200, stripe.GetProperty("amount").GetInt64());
        Assert.Equal("cus_9", stripe.GetProperty("actor").GetString());

        var github = events[1].GetProperty("data");
        Assert.Equal("issues.opened", github.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, github.GetProperty("amount").ValueKind);
        Assert.Equal("octocat", github.GetProperty("actor").GetString());

        var shopify = events[2].GetProperty("data");
        Assert.Equal("orders/create", shopify.GetProperty("kind").GetString());
        Assert.Equal("12.34", shopify.GetProperty("amount").GetString());
        Assert.Equal("b@shop.example", shopify.GetProperty("actor").GetString());

        // Unrecognised: kept as it came.
        Assert.Equal(1, events[3].GetProperty("data").GetProperty("x").GetInt32());
        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>(TransformKit.SourcePath(customer))).GetProperty("counters").GetProperty("errors").GetInt64());
    }

    [Fact]
    public async Task The_C_module_drops_events_below_its_threshold_and_redacts_a_field_as_configured()
    {
        var customer = await fixture.NewCustomerAsync();
        var view = await fixture.Http.AttachAsync(TransformKit.SourcePath(customer), Modules.Example("threshold"), config: new { field = "amount", min = 1000, redact = "email" });
        Assert.Contains(view.GetProperty("logs").EnumerateArray(), l => l.GetProperty("message").GetString()!.Contains("min=1000", StringComparison.Ordinal));

        var small = await fixture.PostWebhookAsync(customer, """{"type":"order.paid","amount":999,"email":"a@b.c"}""");
        Assert.True((await small.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("dropped").GetBoolean());
        Assert.Equal(HttpStatusCode.Accepted, (await fixture.PostWebhookAsync(customer, """{"type":"order.paid","amount":1500.5,"email":"a@b.c"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await fixture.PostWebhookAsync(customer, """{"type":"order.paid","amount":2000}""")).StatusCode);

        var kept = await fixture.Http.HistoryAsync(customer);
        Assert.Equal(2, kept.Count);
        Assert.Equal("[redacted]", kept[0].GetProperty("data").GetProperty("email").GetString());
        Assert.Equal(1500.5, kept[0].GetProperty("data").GetProperty("amount").GetDouble());
        Assert.Equal("""{"type":"order.paid","amount":2000}""", kept[1].GetProperty("data").GetRawText());
    }
}

/// <summary>The C module on an endpoint: that endpoint gets only the large orders, redacted; the log keeps them all.</summary>
[Collection(OutboundCollection.Name)]
public sealed class ExampleOutboundTests(OutboundFixture fixture)
{
    [Fact]
    public async Task The_C_module_on_an_endpoint_filters_and_redacts_what_that_endpoint_receives()
    {
        var customer = await fixture.Gateway.NewCustomerAsync();
        var path = fixture.Receiver.Path((_, _) => new Answer(200));
        var (endpoint, _) = await fixture.CreateEndpointAsync(customer, path, new { ordered = true });
        await fixture.Http.AttachAsync(TransformKit.EndpointPath(customer, endpoint), Modules.Example("threshold"), config: new { min = 100, redact = "card" });

        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid","amount":5,"card":"4242"}""");
        await fixture.Gateway.PostWebhookAsync(customer, """{"type":"order.paid","amount":500,"card":"4242"}""");
        await Eventually.True(() => fixture.Receiver.Got(path).Count == 1);
        await Eventually.True(async () => (await fixture.MessagesAsync(customer, endpoint, "delivered")).GetArrayLength() == 2);

        var body = JsonDocument.Parse(fixture.Receiver.Got(path)[0].Body).RootElement;
        Assert.Equal(2, body.GetProperty("seq").GetInt64());
        Assert.Equal("[redacted]", body.GetProperty("data").GetProperty("card").GetString());
        Assert.Equal(2, (await fixture.Http.HistoryAsync(customer)).Count);
    }
}

/// <summary>A second engine: the examples run under Node's own WebAssembly (V8) with only fabric.log supplied, by examples/wasm/check.mjs.</summary>
public sealed class ExampleAbiTests
{
    [Fact]
    public async Task The_examples_pass_their_ABI_check_in_Nodes_WebAssembly_engine()
    {
        Modules.Example("normalise");
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Fabric.sln")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        using var node = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("node", Path.Combine(root, "examples", "wasm", "check.mjs"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, await stdout + await stderr);
        Assert.Contains("passed", await stdout, StringComparison.Ordinal);
    }
}
