using System.Net;
using Fabric.Grains.Hosting;
using Fabric.Grains.Redis;
using Fabric.Hosting.Cluster;
using Fabric.Hosting.Dashboard;
using Fabric.Outbound.Hosting;
using Orleans.Configuration;

namespace Fabric.Silo;

internal static class SiloHostingExtensions
{
    /// <summary>
    /// The silo and the grains it hosts. Distributed mode (<c>Fabric:Mode=Distributed</c>): Redis membership, state,
    /// reminders and event log, on the configured ports. Otherwise a single development silo on localhost clustering
    /// with in-memory state.
    /// </summary>
    public static WebApplicationBuilder AddFabricSilo(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(SiloOptions.SectionName).Get<SiloOptions>() ?? new SiloOptions();
        builder.UseOrleans(silo =>
        {
            silo.AddActivityPropagation()
                .AddFabricGrains(builder.Configuration)
                .AddFabricOutbound(builder.Configuration)
                .AddFabricDashboard(builder.Configuration);
            if (FabricMode.IsDistributed(builder.Configuration))
            {
                silo.ListenOn(options).UseFabricRedis(builder.Configuration);
            }
            else
            {
                silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort).AddFabricInMemoryState();
            }
        });
        // The silo decrypts endpoint secrets to sign outbound webhooks with the keys the gateways encrypted them with.
        builder.Services.AddFabricDataProtection(builder.Configuration);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(options.HealthUrl);
        }

        return builder;
    }

    /// <summary>
    /// Advertised: AdvertisedIP, or (in a container) the address the host name resolves to. Bound: ListenAddress, else
    /// the advertised IP, else every interface: these ports are the whole cluster, unauthenticated.
    /// </summary>
    private static ISiloBuilder ListenOn(this ISiloBuilder silo, SiloOptions options)
    {
        var listen = options.ListeningAddress();
        return (options.AdvertisedAddress() is { } advertised
                ? silo.ConfigureEndpoints(advertised, options.SiloPort, options.GatewayPort)
                : silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort))
            .Configure<EndpointOptions>(o =>
            {
                o.SiloListeningEndpoint = new IPEndPoint(listen, options.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(listen, options.GatewayPort);
            });
    }
}
