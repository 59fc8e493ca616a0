using System.Net;
using Fabric.Grains.Hosting;
using Fabric.Grains.Redis;
using Fabric.Outbound.Hosting;
using Fabric.Silo;

// The standalone silo. Distributed mode (Fabric:Mode=Distributed): Redis membership, state, reminders and event log.
// Otherwise a single development silo on localhost clustering with in-memory state.
var builder = WebApplication.CreateBuilder(args);
var options = builder.Configuration.GetSection(SiloOptions.SectionName).Get<SiloOptions>() ?? new SiloOptions();
var distributed = FabricRedisHosting.IsDistributed(builder.Configuration);

builder.UseOrleans(silo =>
{
    silo.AddActivityPropagation().AddFabricGrains(builder.Configuration).AddFabricOutbound(builder.Configuration);
    if (!distributed)
    {
        silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort).AddFabricInMemoryState();
    }
    else
    {
        // Advertised: AdvertisedIP, or (in a container) the address the host name resolves to. Bound: ListenAddress,
        // else the advertised IP, else every interface: these ports are the whole cluster, unauthenticated.
        var listen = options.ListeningAddress();
        (options.AdvertisedAddress() is { } advertised
                ? silo.ConfigureEndpoints(advertised, options.SiloPort, options.GatewayPort)
                : silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort))
            .Configure<Orleans.Configuration.EndpointOptions>(o =>
            {
                o.SiloListeningEndpoint = new IPEndPoint(listen, options.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(listen, options.GatewayPort);
            })
            .UseFabricRedis(builder.Configuration);
    }
});
builder.Services.AddFabricDataProtection(builder.Configuration);
builder.AddFabricSiloTelemetry();
builder.Services.AddHealthChecks();
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls(options.HealthUrl);
}

var app = builder.Build();
app.MapHealthChecks("/healthz");
await app.RunAsync();
