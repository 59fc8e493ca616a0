using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Fabric.Gateway.Tests.Telemetry;

/// <summary>What operators point their tools at: the probes and the Orleans Dashboard (behind the admin key).</summary>
[Collection(GatewayCollection.Name)]
public sealed class OperatorEndpointTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Healthz_answers_alive_and_readyz_lists_each_check()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);

        using var ready = await anonymous.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var report = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("cluster").GetProperty("status").GetString());
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("draining").GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_dashboard_asks_for_the_admin_key_and_opens_with_it_as_a_bearer_or_a_basic_password()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.BaseAddress };
        using var refused = await anonymous.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Basic", refused.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);

        // Every dashboard route, its API and its log stream included, not just the page.
        foreach (var path in new[] { "/dashboard/ClusterStats", "/dashboard/Trace", "/dashboard/GrainTypes", "/dashboard/Reminders" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
        }

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/dashboard/ClusterStats");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:not-the-key")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(wrong)).StatusCode);

        using var basic = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
        basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:" + GatewayFixture.AdminKey)));
        using var page = await anonymous.SendAsync(basic);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Orleans Dashboard", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The fixture's client sends the admin key as a bearer.
        using var stats = await fixture.Http.GetAsync("/dashboard/ClusterStats");
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
    }
}
