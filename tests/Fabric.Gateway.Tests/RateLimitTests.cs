using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;

namespace Fabric.Gateway.Tests;

/// <summary>The per-customer rate limit, on a gateway of its own with a tiny limit.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _app = await GatewayFixture.StartGatewayAsync(new() { ["Fabric:RateLimit:PermitsPerSecond"] = "10", ["Fabric:RateLimit:Burst"] = "3" });
        _http = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
        _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", GatewayFixture.AdminKey);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

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
        Assert.Equal(accepted, (await _http.GetFromJsonAsync<JsonElement>($"/v1/customers/{busy}/events")).GetProperty("lastSeq").GetInt64());
    }

    private async Task<string> RegisterAsync()
    {
        var customer = GatewayFixture.NewCustomerId();
        (await _http.PutAsync($"/v1/admin/customers/{customer}", null)).EnsureSuccessStatusCode();
        (await _http.PutAsync($"/v1/admin/customers/{customer}/sources/s", new StringContent("""{"scheme":"none"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        return customer;
    }

    private Task<HttpResponseMessage> PostAsync(string customer) =>
        _http.PostAsync($"/v1/webhooks/{customer}/s", new StringContent("""{"type":"t"}""", Encoding.UTF8, "application/json"));
}
