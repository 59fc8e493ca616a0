using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using Fabric.Outbound.Delivery;
using Fabric.Rules.Outbound;
using Microsoft.Extensions.DependencyInjection;

namespace Fabric.Gateway.Tests.Outbound;

/// <summary>
/// The egress guard on a gateway with no allowlist: private, loopback, link-local and metadata targets are refused at
/// registration, and at connect time for a delivery that got past registration; bad endpoint settings are 400s.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class EgressTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("http://127.0.0.1:9/hook")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://192.168.1.1/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[::1]:8080/hook")]
    [InlineData("http://[::ffff:127.0.0.1]/hook")]
    [InlineData("http://localhost:8080/hook")]
    [InlineData("http://0.0.0.0/hook")]
    public async Task A_private_loopback_link_local_or_metadata_target_is_refused_at_registration(string url)
    {
        var customer = await fixture.NewCustomerAsync();
        var response = await fixture.Http.PostAsJsonAsync($"/v1/admin/customers/{customer}/endpoints", new { url });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("/blocked-url", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/admin/customers/{customer}/endpoints")).GetProperty("endpoints").GetArrayLength());
    }

    [Fact]
    public async Task A_connection_to_a_blocked_address_is_refused_at_connect_time_too()
    {
        // As if a name had resolved to a public address at registration and to loopback now (DNS rebinding).
        await using var receiver = await Receiver.StartAsync();
        var path = receiver.Path((_, _) => new Answer(200));
        var sender = fixture.Services.GetRequiredService<WebhookSender>();
        var result = await sender.SendAsync(new Uri(receiver.Url(path)), new Dictionary<string, string>(), "{}"u8.ToArray(), TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal("blocked-address", result.Attempt.Error);
        Assert.Empty(receiver.Got(path));
    }

    [Fact]
    public void HttpsOnly_refuses_plain_http_and_an_allowlisted_range_lets_its_addresses_through()
    {
        var policy = new EgressPolicy(Microsoft.Extensions.Options.Options.Create(new OutboundOptions
        {
            HttpsOnly = true,
            AllowedHosts = ["10.20.0.0/16", "hooks.internal"],
        }));
        Assert.NotNull(policy.CheckSyntax("http://hooks.example.com/x"));
        Assert.Null(policy.CheckSyntax("https://hooks.example.com/x"));
        Assert.True(policy.IsAllowed("any", IPAddress.Parse("10.20.3.4")));
        Assert.False(policy.IsAllowed("any", IPAddress.Parse("10.21.0.1")));
        Assert.True(policy.IsAllowed("hooks.internal", IPAddress.Loopback));
        Assert.False(policy.IsAllowed("any", IPAddress.Parse("::ffff:169.254.169.254")));
        Assert.True(policy.IsAllowed("any", IPAddress.Parse("93.184.216.34")));
    }

    [Theory]
    [InlineData("""{"topics":["a"]}""", "invalid-url")]
    [InlineData("""{"url":"ftp://example.com/x"}""", "invalid-url")]
    [InlineData("""{"url":"https://user:pw@example.com/x"}""", "invalid-url")]
    [InlineData("""{"url":"https://example.com/x","topics":["a b"]}""", "invalid-topics")]
    [InlineData("""{"url":"https://example.com/x","topics":[]}""", "invalid-topics")]
    [InlineData("""{"url":"https://example.com/x","maxConcurrency":0}""", "invalid-max-concurrency")]
    [InlineData("""{"url":"https://example.com/x","rateLimitPerSecond":-1}""", "invalid-rate-limit")]
    [InlineData("""{"url":"https://example.com/x","headers":{"webhook-signature":"v1,forged"}}""", "invalid-headers")]
    [InlineData("""{"url":"https://example.com/x","headers":{"x-a":"line\nbreak"}}""", "invalid-headers")]
    [InlineData("""{"url":"https://example.com/x","headers":{"X-A":"1","x-a":"2"}}""", "invalid-headers")]
    [InlineData("""{"url":"https://example.com/x","headers":{"content-encoding":"gzip"}}""", "invalid-headers")]
    [InlineData("""{"url":"https://example.com/x","retrySchedule":["-00:00:01"]}""", "invalid-retry-schedule")]
    [InlineData("""{"url":"https://example.com/x","timeout":"00:10:00"}""", "invalid-timeout")]
    [InlineData("""{"url":"https://example.com/x","fromSeq":-1}""", "invalid-from-seq")]
    [InlineData("""{"url":42}""", "invalid-json")]
    public async Task Bad_endpoint_settings_are_a_400_that_names_the_rule_and_create_nothing(string body, string code)
    {
        var customer = await fixture.NewCustomerAsync();
        var response = await fixture.Http.PostAsync($"/v1/admin/customers/{customer}/endpoints", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.EndsWith("/" + code, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/admin/customers/{customer}/endpoints")).GetProperty("endpoints").GetArrayLength());
    }

    [Fact]
    public async Task Unknown_customers_and_endpoints_are_404s_and_a_customers_key_cannot_manage_endpoints()
    {
        var customer = await fixture.NewCustomerAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync($"/v1/admin/customers/nobody-{Guid.NewGuid():N}/endpoints")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync($"/v1/admin/customers/{customer}/endpoints/ep_00000000000000000000")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync($"/v1/admin/customers/{customer}/endpoints/not-an-id")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.DeleteAsync($"/v1/admin/customers/{customer}/endpoints/ep_00000000000000000000")).StatusCode);

        var key = await fixture.CreateKeyAsync(customer, "publish", "history", "subscribe");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(fixture.BaseAddress, $"/v1/admin/customers/{customer}/endpoints"));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task An_endpoint_is_listed_changed_and_deleted_and_never_shows_its_secret_again()
    {
        var customer = await fixture.NewCustomerAsync();
        var created = await fixture.Http.PostAsJsonAsync($"/v1/admin/customers/{customer}/endpoints", new { url = "https://example.com/hook", topics = new[] { "order.*" }, description = "orders" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetString()!;
        Assert.StartsWith("whsec_", body.GetProperty("secret").GetString(), StringComparison.Ordinal);
        Assert.Equal(created.Headers.Location?.ToString(), $"/v1/admin/customers/{customer}/endpoints/{id}");

        var patched = await fixture.Http.PatchAsJsonAsync($"/v1/admin/customers/{customer}/endpoints/{id}", new { ordered = true, rateLimitPerSecond = 5 });
        var view = await patched.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(view.GetProperty("ordered").GetBoolean());
        Assert.Equal(5, view.GetProperty("rateLimitPerSecond").GetInt32());
        Assert.Equal("orders", view.GetProperty("description").GetString());

        var listed = await fixture.Http.GetStringAsync($"/v1/admin/customers/{customer}/endpoints");
        Assert.Contains(id, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(body.GetProperty("secret").GetString()!, listed, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_", await fixture.Http.GetStringAsync($"/v1/admin/customers/{customer}/endpoints/{id}"), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Http.DeleteAsync($"/v1/admin/customers/{customer}/endpoints/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync($"/v1/admin/customers/{customer}/endpoints/{id}")).StatusCode);
        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/admin/customers/{customer}/endpoints")).GetProperty("endpoints").GetArrayLength());
    }
}
