using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Fabric.Gateway.Tests;

/// <summary>
/// The real gateway, embedded silo and all, on real Kestrel at a random loopback port; one per test collection.
/// Silo ports are picked free so it can run beside a developer's own instance.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const long MaxBodyBytes = 64 * 1024;
    public const int MaxMessageBytes = 4096;

    /// <summary>The admin key this gateway is configured with; <see cref="Http"/> sends it.</summary>
    public const string AdminKey = "test-admin-key";

    /// <summary>The unsigned source every <see cref="NewCustomerAsync()"/> customer has (scheme <c>none</c>).</summary>
    public const string TestSource = "test";

    private WebApplication _app = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>The running gateway's services, for tests that drive one of its parts directly.</summary>
    public IServiceProvider Services => _app.Services;

    public async Task InitializeAsync()
    {
        // The Orleans Dashboard (OperatorEndpointTests) on this shared gateway only: it costs each gateway start about
        // a second of CPU, and the other gateways tests start do without it.
        _app = await StartGatewayAsync(new() { ["Fabric:Dashboard:Enabled"] = "true" });
        BaseAddress = new Uri(_app.Urls.First());
        Http = new HttpClient { BaseAddress = BaseAddress };
        Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
    }

    /// <summary>Starts a gateway like this fixture's, with <paramref name="overrides"/> on top of its settings.</summary>
    public static async Task<WebApplication> StartGatewayAsync(Dictionary<string, string?> overrides, Action<WebApplicationBuilder>? configure = null)
    {
        var app = Embedded.Program.Create([], builder =>
        {
            configure?.Invoke(builder);
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            if (configure is null)
            {
                builder.Logging.SetMinimumLevel(LogLevel.Warning);
            }

            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Fabric:Embedded:SiloPort"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
                ["Fabric:Embedded:GatewayPort"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
                ["Fabric:Webhooks:MaxBodyBytes"] = MaxBodyBytes.ToString(CultureInfo.InvariantCulture),
                ["Fabric:Sockets:MaxMessageBytes"] = MaxMessageBytes.ToString(CultureInfo.InvariantCulture),
                ["Fabric:Sockets:MaxInvalidFramesPerMinute"] = "3",
                ["Fabric:Admin:Keys:0"] = AdminKey,
                // Tests post far faster than one customer's default rate; the rate limit has its own test host.
                ["Fabric:RateLimit:PermitsPerSecond"] = "0",
                // Short, so a test can watch a lost registration come back within a few seconds.
                ["Fabric:Sockets:RenewInterval"] = "00:00:01",
            });
            builder.Configuration.AddInMemoryCollection(overrides);
        });
        await app.StartAsync();
        return app;
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A fresh id, not registered: for tests of what happens to strangers.</summary>
    public static string NewCustomerId() => "c-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Registers a fresh customer with an unsigned source <see cref="TestSource"/> and returns its id.</summary>
    public Task<string> NewCustomerAsync() => NewCustomerAsync(Http);

    /// <summary>Registers a fresh customer with an unsigned source through whichever gateway <paramref name="admin"/> talks to.</summary>
    public static async Task<string> NewCustomerAsync(HttpClient admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var customer = NewCustomerId();
        (await admin.PutAsync($"/v1/admin/customers/{customer}", null)).EnsureSuccessStatusCode();
        (await admin.PutAsync($"/v1/admin/customers/{customer}/sources/{TestSource}", new StringContent("""{"scheme":"none"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        return customer;
    }

    /// <summary>Creates or replaces a source through the admin API; fails the test unless it is accepted.</summary>
    public async Task PutSourceAsync(string customer, string source, string json)
    {
        var response = await Http.PutAsync($"/v1/admin/customers/{customer}/sources/{source}", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"PUT source: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Creates an API key through the admin API and returns the key.</summary>
    public async Task<string> CreateKeyAsync(string customer, params string[] scopes)
    {
        var response = await Http.PostAsync($"/v1/admin/customers/{customer}/keys", JsonContent.Create(new { scopes }));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("key").GetString()!;
    }

    public Task<FabricSocket> ConnectAsync(string customer) => FabricSocket.ConnectAsync(BaseAddress, customer);

    /// <summary>POSTs a JSON webhook and returns the response.</summary>
    public Task<HttpResponseMessage> PostWebhookAsync(string customer, string json, string source = TestSource, string? key = null, string contentType = "application/json") =>
        PostWebhookAsync(Http, customer, json, source, key, contentType);

    /// <summary>POSTs a JSON webhook through whichever gateway <paramref name="http"/> talks to.</summary>
    public static Task<HttpResponseMessage> PostWebhookAsync(HttpClient http, string customer, string json, string source = TestSource, string? key = null, string contentType = "application/json")
    {
        ArgumentNullException.ThrowIfNull(http);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/{customer}/{source}")
        {
            Content = new StringContent(json, Encoding.UTF8, contentType),
        };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return http.SendAsync(request);
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
