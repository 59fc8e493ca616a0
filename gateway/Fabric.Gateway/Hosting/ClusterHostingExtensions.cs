using Fabric.Contracts;
using Fabric.Gateway.Sockets;
using Fabric.Grains.Hosting;
using Fabric.Grains.Redis;
using Fabric.Hosting.Dashboard;
using Fabric.Outbound.Hosting;
using Orleans.Configuration;

namespace Fabric.Gateway.Hosting;

internal static partial class ClusterHostingExtensions
{
    /// <summary>
    /// Embedded mode (the default): a silo in this process with localhost clustering and in-memory state; it also
    /// registers the <c>IClusterClient</c> the rest of the gateway uses.
    /// Distributed mode (<c>Fabric:Mode=Distributed</c>): an Orleans client only, finding the silos through Redis.
    /// It waits for a silo before it serves (the host starts Kestrel once the client is connected), and renews its
    /// customers' registrations whenever the set of reachable silos changes.
    /// </summary>
    public static WebApplicationBuilder AddFabricCluster(this WebApplicationBuilder builder)
    {
        if (FabricRedisHosting.IsDistributed(builder.Configuration))
        {
            // A request in flight to a silo that dies gets no answer until the response timeout: 10 s (Orleans' own is
            // 30 s) turns that into a 503 and a retry well within a webhook sender's patience.
            var responseTimeout = builder.Configuration.GetValue("Fabric:Cluster:ResponseTimeout", TimeSpan.FromSeconds(10));
            builder.UseOrleansClient(client => client
                .UseFabricRedis(builder.Configuration)
                .Configure<ClientMessagingOptions>(o =>
                {
                    o.ResponseTimeout = responseTimeout;
                    o.MaxMessageBodySize = Contracts.FabricMessaging.MaxMessageBodyBytes;
                    o.MaxMessageHeaderSize = Contracts.FabricMessaging.MaxMessageHeaderBytes;
                })
                .AddActivityPropagation()
                .UseConnectionRetryFilter(WaitForSiloAsync));
            // The silos deliver outbound webhooks; the gateway checks an endpoint's URL when it is registered.
            builder.Services.AddFabricOutboundPolicy(builder.Configuration);
            builder.Services.AddSingleton<GatewayCountChangedHandler>(services =>
                (_, e) =>
                {
                    Log.GatewaysChanged(services.GetRequiredService<ILoggerFactory>().CreateLogger("Fabric.Gateway.Cluster"), e.PreviousNumberOfConnectedGateways, e.NumberOfConnectedGateways);
                    services.GetRequiredService<FeedRegistry>().RenewSoon();
                });
            return builder;
        }

        var ports = builder.Configuration.GetSection(EmbeddedSiloOptions.SectionName).Get<EmbeddedSiloOptions>()
            ?? new EmbeddedSiloOptions();
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(ports.SiloPort, ports.GatewayPort)
            .AddFabricInMemoryState()
            .AddActivityPropagation()
            .AddFabricGrains(builder.Configuration)
            .AddFabricOutbound(builder.Configuration)
            .AddFabricDashboard(builder.Configuration));
        return builder;
    }

    // No silo yet (or none reachable): keep trying every second instead of failing the host.
    private static readonly Backoff SiloRetry = Backoff.Fixed(TimeSpan.FromSeconds(1));

    private static async Task<bool> WaitForSiloAsync(Exception exception, CancellationToken cancellationToken)
    {
        await Task.Delay(SiloRetry.Initial, cancellationToken);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(500, LogLevel.Information, "Connected silo gateways changed from {Previous} to {Current}; renewing registrations")]
        public static partial void GatewaysChanged(ILogger logger, int previous, int current);
    }
}
