using Fabric.Contracts;
using Fabric.Gateway.Sockets;
using Fabric.Hosting.Cluster;
using Orleans.Configuration;

namespace Fabric.Gateway.Hosting;

internal static partial class ClusterHostingExtensions
{
    /// <summary>
    /// Distributed mode (<c>Fabric:Mode=Distributed</c>): an Orleans client, finding the silos through Redis. It waits
    /// for a silo before it serves (the host starts Kestrel once the client is connected), and renews its customers'
    /// registrations whenever the set of reachable silos changes. Otherwise the host has co-hosted a silo already
    /// (<c>Fabric.Gateway.Embedded</c>), which registers the client the gateway uses.
    /// </summary>
    public static WebApplicationBuilder AddFabricCluster(this WebApplicationBuilder builder)
    {
        if (!FabricMode.IsDistributed(builder.Configuration))
        {
            if (!builder.Services.Any(s => s.ServiceType == typeof(IClusterClient)))
            {
                throw new InvalidOperationException(
                    "This is distributed mode's gateway: set Fabric:Mode=Distributed (and Fabric:Redis:ConnectionString). "
                    + "To run the whole fabric in one process, run gateway/Fabric.Gateway.Embedded.");
            }

            return builder;
        }

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
        builder.Services.AddSingleton<GatewayCountChangedHandler>(services =>
            (_, e) =>
            {
                Log.GatewaysChanged(services.GetRequiredService<ILoggerFactory>().CreateLogger("Fabric.Gateway.Cluster"), e.PreviousNumberOfConnectedGateways, e.NumberOfConnectedGateways);
                services.GetRequiredService<FeedRegistry>().RenewSoon();
            });
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
