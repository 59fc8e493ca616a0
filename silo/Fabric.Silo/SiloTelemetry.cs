using Fabric.Grains;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Fabric.Silo;

/// <summary>OpenTelemetry for the standalone silo; exports over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.</summary>
internal static class SiloTelemetry
{
    public static IHostApplicationBuilder AddFabricSiloTelemetry(this IHostApplicationBuilder builder)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("fabric-silo"))
            .WithMetrics(m => m.AddMeter(GrainsTelemetry.Name, "Microsoft.Orleans"));
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // Traced only when exported: a recorded span nobody reads still costs every grain call.
            otel.WithTracing(t => t.AddSource(GrainsTelemetry.Name, "Microsoft.Orleans.Application")).UseOtlpExporter();
        }

        return builder;
    }
}
