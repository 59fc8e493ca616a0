using System.Globalization;
using System.Net;
using System.Net.Sockets;
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

    private WebApplication _app = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>The running gateway's services, for tests that drive one of its parts directly.</summary>
    public IServiceProvider Services => _app.Services;

    public async Task InitializeAsync()
    {
        _app = Program.Create([], builder =>
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Fabric:Embedded:SiloPort"] = FreePort(),
                ["Fabric:Embedded:GatewayPort"] = FreePort(),
                ["Fabric:Webhooks:MaxBodyBytes"] = MaxBodyBytes.ToString(CultureInfo.InvariantCulture),
                ["Fabric:Sockets:MaxMessageBytes"] = MaxMessageBytes.ToString(CultureInfo.InvariantCulture),
                ["Fabric:Sockets:MaxInvalidFramesPerMinute"] = "3",
                // Short, so a test can watch a lost registration come back within a few seconds.
                ["Fabric:Sockets:RenewInterval"] = "00:00:01",
            });
        });
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
        Http = new HttpClient { BaseAddress = BaseAddress };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public static string NewCustomer() => "c-" + Guid.NewGuid().ToString("N")[..12];

    public Task<FabricSocket> ConnectAsync(string customer) => FabricSocket.ConnectAsync(BaseAddress, customer);

    /// <summary>POSTs a JSON webhook and returns the response.</summary>
    public Task<HttpResponseMessage> PostWebhookAsync(string customer, string json, string source = "test", string? key = null, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/{customer}/{source}")
        {
            Content = new StringContent(json, Encoding.UTF8, contentType),
        };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return Http.SendAsync(request);
    }

    private static string FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
