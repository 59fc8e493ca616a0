using Fabric.Grains;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Fabric.Gateway.Telemetry;

internal static class TelemetryHostingExtensions
{
    /// <summary>
    /// Traces and metrics of the gateway, its co-hosted grains and Orleans, exported over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Without an exporter nothing is traced: a recorded span that nobody
    /// reads still costs every request its allocations (and every socket its request span, for the socket's life).
    /// Parent-based sampling keeps HTTP → grain → socket in one decision.
    /// </summary>
    public static WebApplicationBuilder AddFabricTelemetry(this WebApplicationBuilder builder)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("fabric-gateway"))
            .WithMetrics(m => m
                .AddMeter(GatewayTelemetry.Name, GrainsTelemetry.Name, "Microsoft.Orleans")
                .AddAspNetCoreInstrumentation());
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.WithTracing(t => t
                    .SetSampler(new ParentBasedSampler(new AlwaysOnSampler()))
                    .AddSource(GatewayTelemetry.Name, GrainsTelemetry.Name, "Microsoft.Orleans.Application")
                    .AddAspNetCoreInstrumentation(o => o.Filter = ctx => ctx.Request.Path != "/healthz"))
                .UseOtlpExporter();
        }

        return builder;
    }
}
