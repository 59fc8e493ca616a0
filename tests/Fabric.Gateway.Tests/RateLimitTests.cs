using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Fabric.Gateway.Tests;

/// <summary>The per-customer rate limit, on a gateway of its own with a tiny limit.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    private HttpClient Http => _gateway.Http;

    public async Task InitializeAsync()
    {
        _gateway = await TestGateway.StartAsync(new() { ["Fabric:RateLimit:PermitsPerSecond"] = "10", ["Fabric:RateLimit:Burst"] = "3" });
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task A_customer_over_its_rate_gets_429_with_retry_after_and_another_customer_is_not_affected()
    {
        var busy = await RegisterAsync();
        var quiet = await RegisterAsync();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 10 && limited is null; i++)
        {
            var response = await PostAsync(busy);
            statuses.Add(response.StatusCode);
            limited = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.EndsWith("/rate-limited", (await limited.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(quiet)).StatusCode);

        // What was refused was not stored.
        var accepted = statuses.Count(s => s == HttpStatusCode.Accepted);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(accepted, (await Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{busy}/events")).GetProperty("lastSeq").GetInt64());
    }

    private async Task<string> RegisterAsync()
    {
        var customer = GatewayFixture.NewCustomerId();
        (await Http.PutAsync($"/v1/admin/customers/{customer}", null)).EnsureSuccessStatusCode();
        (await Http.PutAsync($"/v1/admin/customers/{customer}/sources/s", new StringContent("""{"scheme":"none"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        return customer;
    }

    private Task<HttpResponseMessage> PostAsync(string customer) =>
        Http.PostAsync($"/v1/webhooks/{customer}/s", new StringContent("""{"type":"t"}""", Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Unsigned_junk_does_not_spend_the_customers_budget()
    {
        var customer = GatewayFixture.NewCustomerId();
        (await Http.PutAsync($"/v1/admin/customers/{customer}", null)).EnsureSuccessStatusCode();
        (await Http.PutAsync($"/v1/admin/customers/{customer}/sources/gh", new StringContent("""{"scheme":"github","secrets":["s"]}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        for (var i = 0; i < 10; i++)
        {
            var junk = await Http.PostAsync($"/v1/webhooks/{customer}/gh", new StringContent("""{"x":1}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Unauthorized, junk.StatusCode);
        }

        var body = """{"action":"opened"}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/{customer}/gh") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData("s"u8, Encoding.UTF8.GetBytes(body))));
        Assert.Equal(HttpStatusCode.Accepted, (await Http.SendAsync(request)).StatusCode);
    }
}
