using Fabric.Grains;
using Fabric.Hosting.Health;
using Fabric.Hosting.Telemetry;
using Fabric.Outbound;
using Fabric.Wasm;

namespace Fabric.Silo;

internal static class SiloTelemetry
{
    /// <summary>
    /// The silo's traces and metrics (<see cref="TelemetryHostingExtensions"/>). Its sampler defaults to
    /// <c>parentbased_always_on</c>: a silo records what the gateway that called it decided to record, and everything
    /// that starts on the silo (reminders, outbound retries).
    /// </summary>
    public static WebApplicationBuilder AddFabricSiloTelemetry(this WebApplicationBuilder builder)
    {
        builder.AddFabricTelemetry(new TelemetryShape("fabric-silo", TraceSampling.SiloDefault,
            Meters: [GrainsTelemetry.Name, OutboundTelemetry.Name, WasmTelemetry.Name],
            Sources: [GrainsTelemetry.Name, OutboundTelemetry.Name]));
        return builder;
    }

    /// <summary><c>/readyz</c> on a silo: an active member of the cluster, Redis answering (distributed mode), not draining.</summary>
    public static WebApplicationBuilder AddFabricSiloHealth(this WebApplicationBuilder builder)
    {
        builder.AddFabricHealth().AddCheck<SiloHealthCheck>("silo", tags: [HealthHostingExtensions.Ready]);
        return builder;
    }
}
