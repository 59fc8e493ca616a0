using Microsoft.AspNetCore.Builder;

namespace Fabric.Gateway.Tests;

/// <summary>
/// A gateway of a test class's own (beside the shared fixture), for settings the shared one must not have — a tiny
/// rate limit, every log level captured — with an HTTP client that sends the admin key.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestGateway(WebApplication app)
    {
        _app = app;
        Http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", GatewayFixture.AdminKey);
    }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Registers a fresh customer with the unsigned source <see cref="GatewayFixture.TestSource"/>.</summary>
    public Task<string> NewCustomerAsync() => GatewayFixture.NewCustomerAsync(Http);

    /// <summary>POSTs a JSON webhook to the customer's unsigned source.</summary>
    public Task<HttpResponseMessage> PostWebhookAsync(string customer, string json) => GatewayFixture.PostWebhookAsync(Http, customer, json);

    public static async Task<TestGateway> StartAsync(Dictionary<string, string?> settings, Action<WebApplicationBuilder>? configure = null) =>
        new(await GatewayFixture.StartGatewayAsync(settings, configure));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
