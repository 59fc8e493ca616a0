using Fabric.Grains;
using Fabric.Grains.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Fabric.Silo;

/// <summary>OpenTelemetry for the standalone silo; exports over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.</summary>
internal static class SiloTelemetry
{
    /// <summary>
    /// The sampler is <c>OTEL_TRACES_SAMPLER</c>'s, by default <c>parentbased_always_on</c>: a silo records what the
    /// gateway that called it decided to record, and everything that starts on the silo (reminders).
    /// </summary>
    public static IHostApplicationBuilder AddFabricSiloTelemetry(this IHostApplicationBuilder builder)
    {
        // Read even without an exporter, so a mistyped sampler stops the start where it is set.
        var sampler = TraceSampling.FromConfiguration(builder.Configuration, TraceSampling.SiloDefault);
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("fabric-silo"))
            .WithMetrics(m => m.AddMeter(GrainsTelemetry.Name, Fabric.Outbound.OutboundTelemetry.Name, Fabric.Wasm.WasmTelemetry.Name, "Microsoft.Orleans"));
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // Traced only when exported: a recorded span nobody reads still costs every grain call.
            otel.WithTracing(t => t.SetSampler(sampler).AddSource(GrainsTelemetry.Name, Fabric.Outbound.OutboundTelemetry.Name, "Microsoft.Orleans.Application")).UseOtlpExporter();
        }

        return builder;
    }
}
