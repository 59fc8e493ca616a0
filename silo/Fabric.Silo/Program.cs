using System.Net;
using Fabric.Grains.Hosting;
using Fabric.Grains.Redis;
using Fabric.Silo;

// The standalone silo. Distributed mode (Fabric:Mode=Distributed): Redis membership, state, reminders and event log.
// Otherwise a single development silo on localhost clustering with in-memory state.
var builder = WebApplication.CreateBuilder(args);
var options = builder.Configuration.GetSection(SiloOptions.SectionName).Get<SiloOptions>() ?? new SiloOptions();
var distributed = FabricRedisHosting.IsDistributed(builder.Configuration);

builder.UseOrleans(silo =>
{
    silo.AddActivityPropagation().AddFabricGrains(builder.Configuration);
    if (!distributed)
    {
        silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort).AddFabricInMemoryState();
    }
    else if (options.AdvertisedIP is { Length: > 0 } ip)
    {
        silo.ConfigureEndpoints(IPAddress.Parse(ip), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true)
            .UseFabricRedis(builder.Configuration);
    }
    else
    {
        // In a container: advertise the address the host name resolves to.
        silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true)
            .UseFabricRedis(builder.Configuration);
    }
});
builder.AddFabricSiloTelemetry();
builder.Services.AddHealthChecks();
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls(options.HealthUrl);
}

var app = builder.Build();
app.MapHealthChecks("/healthz");
await app.RunAsync();
