using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Fabric.Gateway.Tests.Webhooks;

/// <summary>
/// Each scheme end to end over real Kestrel, signed by the provider's own library where one ships: a correct
/// delivery is accepted and reaches a subscribed socket with the scheme's event type and idempotency key; a tampered
/// body, a wrong secret, a missing header and (where the scheme has one) an old timestamp are refused with the right
/// problem, and nothing of them reaches a socket or the history.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class WebhookSchemeTests(GatewayFixture fixture)
{
    private const string StandardSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string OtherStandardSecret = "whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXkh";

    public static TheoryData<string> Schemes => ["stripe", "github", "standard", "shopify", "slack", "hmac"];

    [Theory]
    [MemberData(nameof(Schemes))]
    public async Task Signed_delivery_is_accepted_and_reaches_a_subscribed_socket(string scheme)
    {
        var (customer, source) = await SetUpAsync(scheme, Secret(scheme));
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["*"]);

        var delivery = await SignAsync(scheme, Secret(scheme), Now());
        var response = await SendAsync(customer, source, delivery);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var e = Assert.Single(await socket.ReceiveEventsAsync(1));
        Assert.Equal(ExpectedType(scheme), e.Type());
        Assert.Equal(ExpectedKey(scheme, delivery), e.GetProperty("key").GetString());
        Assert.Equal(source, e.GetProperty("source").GetString());

        // The provider retries with the same delivery: acknowledged again, stored once.
        var retry = await SendAsync(customer, source, delivery);
        Assert.True((await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public async Task Tampered_wrongly_signed_unsigned_or_stale_deliveries_are_refused_and_nothing_arrives(string scheme)
    {
        var (customer, source) = await SetUpAsync(scheme, Secret(scheme));
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["*"]);
        var good = await SignAsync(scheme, Secret(scheme), Now());

        await AssertRefusedAsync(await SendAsync(customer, source, good with { Body = good.Body.Replace("4200", "4201", StringComparison.Ordinal) }), "invalid-signature");
        await AssertRefusedAsync(await SendAsync(customer, source, await SignAsync(scheme, WrongSecret(scheme), Now())), "invalid-signature");
        var unsigned = good with { Headers = good.Headers.Where(h => h.Key != SignatureHeader(scheme)).ToDictionary() };
        var missing = await AssertRefusedAsync(await SendAsync(customer, source, unsigned), "missing-signature");
        Assert.Contains(SignatureHeader(scheme), missing.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        if (scheme is "stripe" or "standard" or "slack")
        {
            // ±301 s exactly is in the vector tests, on a fixed clock; here signing and verifying are seconds apart.
            await AssertRefusedAsync(await SendAsync(customer, source, await SignAsync(scheme, Secret(scheme), Now() - 330)), "timestamp-out-of-tolerance");
            await AssertRefusedAsync(await SendAsync(customer, source, await SignAsync(scheme, Secret(scheme), Now() + 330)), "timestamp-out-of-tolerance");
        }

        // Nothing was stored: the first event the socket sees is a later, correct delivery at seq 1.
        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("lastSeq").GetInt64());
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(customer, source, await SignAsync(scheme, Secret(scheme), Now()))).StatusCode);
        Assert.Equal(1, Assert.Single(await socket.ReceiveEventsAsync(1)).Seq());
    }

    [Fact]
    public async Task Rotation_both_secrets_pass_during_the_overlap_and_the_removed_one_fails_after()
    {
        var (customer, source) = await SetUpAsync("standard", StandardSecret);
        await fixture.PutSourceAsync(customer, source, JsonSerializer.Serialize(new { scheme = "standard", secrets = new[] { StandardSecret, OtherStandardSecret } }));
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(customer, source, await SignAsync("standard", StandardSecret, Now()))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(customer, source, await SignAsync("standard", OtherStandardSecret, Now()))).StatusCode);

        await fixture.PutSourceAsync(customer, source, JsonSerializer.Serialize(new { scheme = "standard", secrets = new[] { OtherStandardSecret } }));
        await AssertRefusedAsync(await SendAsync(customer, source, await SignAsync("standard", StandardSecret, Now())), "invalid-signature");
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(customer, source, await SignAsync("standard", OtherStandardSecret, Now()))).StatusCode);
    }

    [Fact]
    public async Task Slack_url_verification_is_answered_with_its_challenge_and_not_stored()
    {
        var (customer, source) = await SetUpAsync("slack", Secret("slack"));
        var body = """{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}""";
        var signed = (await Signers.SignAsync(new { scheme = "slack", secret = Secret("slack"), body, timestamp = Now() }))[0];

        var response = await SendAsync(customer, source, signed);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("challenge").GetString());
        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("lastSeq").GetInt64());
    }

    [Fact]
    public async Task Unknown_customer_and_unknown_source_get_the_same_answer()
    {
        var (customer, _) = await SetUpAsync("github", Secret("github"));
        var unknownSource = await fixture.PostWebhookAsync(customer, "{}", source: "nope");
        var unknownCustomer = await fixture.PostWebhookAsync(GatewayFixture.NewCustomerId(), "{}", source: "nope");

        Assert.Equal(HttpStatusCode.NotFound, unknownSource.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownCustomer.StatusCode);
        var a = await unknownSource.Content.ReadFromJsonAsync<JsonElement>();
        var b = await unknownCustomer.Content.ReadFromJsonAsync<JsonElement>();
        Assert.EndsWith("/unknown-source", a.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal((a.GetProperty("type").GetString(), a.GetProperty("detail").GetString()), (b.GetProperty("type").GetString(), b.GetProperty("detail").GetString()));
    }

    private async Task<(string Customer, string Source)> SetUpAsync(string scheme, string secret)
    {
        var customer = await fixture.NewCustomerAsync();
        var source = scheme + "-src";
        object body = scheme == "hmac"
            ? new { scheme, secrets = new[] { secret }, header = "X-Signature", algorithm = "sha512", encoding = "base64", prefix = "sha512=" }
            : new { scheme, secrets = new[] { secret } };
        await fixture.PutSourceAsync(customer, source, JsonSerializer.Serialize(body));
        return (customer, source);
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static string Secret(string scheme) => scheme switch
    {
        "standard" => StandardSecret,
        "stripe" => "whsec_stripe_test_secret_0123456789",
        _ => "it's a secret to " + scheme,
    };

    private static string WrongSecret(string scheme) => scheme == "standard" ? OtherStandardSecret : Secret(scheme) + "!";

    private static string SignatureHeader(string scheme) => scheme switch
    {
        "stripe" => "Stripe-Signature",
        "github" => "X-Hub-Signature-256",
        "standard" => "webhook-signature",
        "shopify" => "X-Shopify-Hmac-Sha256",
        "slack" => "X-Slack-Signature",
        _ => "X-Signature",
    };

    private static string ExpectedType(string scheme) => scheme switch
    {
        "github" => "issues.opened",
        "shopify" => "orders/create",
        "slack" => "message",
        "hmac" => "order.paid",
        _ => "payment_intent.succeeded",
    };

    private static string ExpectedKey(string scheme, SignedRequest delivery) => scheme switch
    {
        "stripe" => "evt_1NG8Du2eZvKYlo2C",
        "github" => delivery.Headers["X-GitHub-Delivery"],
        "standard" => delivery.Headers["webhook-id"],
        "shopify" => delivery.Headers["X-Shopify-Webhook-Id"],
        "slack" => "Ev08MFMKH6",
        _ => delivery.Headers["Idempotency-Key"],
    };

    /// <summary>A real-format delivery of each provider, signed by its library (or as its docs say, where none ships).</summary>
    private static async Task<SignedRequest> SignAsync(string scheme, string secret, long timestamp)
    {
        var id = Guid.NewGuid().ToString();
        switch (scheme)
        {
            case "stripe":
                var stripeBody = """{"id":"evt_1NG8Du2eZvKYlo2C","object":"event","type":"payment_intent.succeeded","data":{"object":{"amount":4200}}}""";
                return (await Signers.SignAsync(new { scheme, secret, body = stripeBody, timestamp }))[0];
            case "github":
                var github = (await Signers.SignAsync(new { scheme, secret, body = """{"action":"opened","issue":{"number":4200}}""" }))[0];
                return With(github, ("X-GitHub-Event", "issues"), ("X-GitHub-Delivery", id));
            case "standard":
                return (await Signers.SignAsync(new { scheme, secret, body = """{"type":"payment_intent.succeeded","amount":4200}""", id = "msg_" + id[..8], timestamp }))[0];
            case "shopify":
                var shopify = (await Signers.SignAsync(new { scheme, secret, body = """{"id":4200,"total_price":"42.00"}""" }))[0];
                return With(shopify, ("X-Shopify-Topic", "orders/create"), ("X-Shopify-Webhook-Id", id), ("X-Shopify-Shop-Domain", "shop.myshopify.com"));
            case "slack":
                var slackBody = """{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"message","text":"4200"}}""";
                return (await Signers.SignAsync(new { scheme, secret, body = slackBody, timestamp }))[0];
            default:
                // The generic scheme has no provider library: its construction is HMAC over the body, computed here.
                var body = """{"amount":4200}""";
                var mac = Convert.ToBase64String(HMACSHA512.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));
                return new SignedRequest(new() { ["X-Signature"] = "sha512=" + mac, ["Fabric-Event-Type"] = "order.paid", ["Idempotency-Key"] = id }, body);
        }
    }

    private static SignedRequest With(SignedRequest request, params (string Name, string Value)[] headers)
    {
        var all = new Dictionary<string, string>(request.Headers);
        foreach (var (name, value) in headers)
        {
            all[name] = value;
        }

        return request with { Headers = all };
    }

    private Task<HttpResponseMessage> SendAsync(string customer, string source, SignedRequest delivery) =>
        WebhookRequests.SendAsync(fixture.Http, $"/v1/webhooks/{customer}/{source}", delivery);

    private static async Task<JsonElement> AssertRefusedAsync(HttpResponseMessage response, string problem)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.EndsWith("/" + problem, body.GetProperty("type").GetString(), StringComparison.Ordinal);
        return body;
    }
}
