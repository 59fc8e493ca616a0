using Fabric.Grains;
using Fabric.Grains.Hosting;
using Fabric.Hosting.Cluster;
using Fabric.Hosting.Dashboard;
using Fabric.Outbound;
using Fabric.Outbound.Hosting;
using Fabric.Wasm;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Fabric.Gateway.Embedded;

internal static class EmbeddedHostingExtensions
{
    /// <summary>
    /// Embedded mode: a silo in this process with localhost clustering and in-memory state, which also registers the
    /// <c>IClusterClient</c> the gateway uses; the grains' meters and sources join the gateway's telemetry. With
    /// <c>Fabric:Mode=Distributed</c> it adds nothing, and the gateway is a client of the silos.
    /// </summary>
    public static WebApplicationBuilder AddFabricEmbeddedSilo(this WebApplicationBuilder builder)
    {
        if (FabricMode.IsDistributed(builder.Configuration))
        {
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
        builder.Services.ConfigureOpenTelemetryMeterProvider(m => m.AddMeter(GrainsTelemetry.Name, OutboundTelemetry.Name, WasmTelemetry.Name));
        builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddSource(GrainsTelemetry.Name, OutboundTelemetry.Name));
        return builder;
    }
}
