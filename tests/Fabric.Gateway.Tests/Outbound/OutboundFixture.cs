using Fabric.Grains;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Fabric.Gateway.Tests.Outbound;

/// <summary>
/// A gateway whose Fabric clock the tests move (schedules are checked without sleeping), a real receiver on loopback
/// that the egress policy lets through (<c>Fabric:Outbound:AllowedHosts</c> = 127.0.0.1), and no retry jitter, so
/// every wait is exactly the schedule's.
/// </summary>
public sealed class OutboundFixture : IAsyncLifetime
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    internal Receiver Receiver { get; private set; } = null!;

    internal TestGateway Gateway { get; private set; } = null!;

    public HttpClient Http => Gateway.Http;

    public async Task InitializeAsync()
    {
        Receiver = await Receiver.StartAsync();
        Gateway = await TestGateway.StartAsync(
            new Dictionary<string, string?>
            {
                ["Fabric:Outbound:AllowedHosts:0"] = "127.0.0.1",
                ["Fabric:Outbound:RetryJitter"] = "0",
                ["Fabric:Outbound:SaveInterval"] = "00:00:00",
            },
            builder => builder.Services.AddKeyedSingleton<TimeProvider>(FabricTime.Key, Clock));
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Receiver.DisposeAsync();
    }

    /// <summary>Moves the clock by <paramref name="step"/> until <paramref name="condition"/> holds (real time bounded).</summary>
    public async Task AdvanceUntil(Func<bool> condition, TimeSpan step, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not become true in time.");
            Clock.Advance(step);
            await Task.Delay(10);
        }
    }

    /// <summary>Registers an endpoint of <paramref name="customer"/> on a receiver path; returns its id and secret.</summary>
    internal async Task<(string Id, string Secret)> CreateEndpointAsync(string customer, string path, object? settings = null)
    {
        var body = new Dictionary<string, object?> { ["url"] = Receiver.Url(path) };
        if (settings is not null)
        {
            foreach (var p in JsonSerializer.SerializeToElement(settings, Json).EnumerateObject())
            {
                body[p.Name] = p.Value;
            }
        }

        var response = await Http.PostAsJsonAsync($"/v1/admin/customers/{customer}/endpoints", body);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);
    }

    internal async Task<JsonElement> MessagesAsync(string customer, string endpoint, string status) =>
        (await Http.GetFromJsonAsync<JsonElement>($"/v1/admin/customers/{customer}/endpoints/{endpoint}/messages?status={status}")).GetProperty("messages");

    internal async Task<JsonElement> EndpointAsync(string customer, string endpoint) =>
        await Http.GetFromJsonAsync<JsonElement>($"/v1/admin/customers/{customer}/endpoints/{endpoint}");

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}

[CollectionDefinition(Name)]
public sealed class OutboundCollection : ICollectionFixture<OutboundFixture>
{
    public const string Name = "outbound";
}
