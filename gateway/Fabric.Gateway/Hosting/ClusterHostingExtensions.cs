using Fabric.Grains.Hosting;

namespace Fabric.Gateway.Hosting;

internal static class ClusterHostingExtensions
{
    /// <summary>
    /// Embedded mode: a silo in this process with localhost clustering and in-memory storage. The co-hosted silo
    /// also registers the <c>IClusterClient</c> the rest of the gateway uses, so no separate client is configured.
    /// </summary>
    public static WebApplicationBuilder AddFabricCluster(this WebApplicationBuilder builder)
    {
        var ports = builder.Configuration.GetSection(EmbeddedSiloOptions.SectionName).Get<EmbeddedSiloOptions>()
            ?? new EmbeddedSiloOptions();
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(ports.SiloPort, ports.GatewayPort)
            .AddMemoryGrainStorageAsDefault()
            .AddActivityPropagation()
            .AddFabricGrains(builder.Configuration));
        return builder;
    }
}
