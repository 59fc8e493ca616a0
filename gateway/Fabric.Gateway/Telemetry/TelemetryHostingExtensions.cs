using Fabric.Grains;
using Fabric.Grains.Hosting;
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
    /// The sampler is <c>OTEL_TRACES_SAMPLER</c>'s, by default <c>always_on</c>: a client's <c>traceparent</c> links
    /// the trace but does not decide whether it is recorded. Spans after the first follow its decision (HTTP → grain →
    /// socket), since every sampler decides the same way within one trace.
    /// </summary>
    public static WebApplicationBuilder AddFabricTelemetry(this WebApplicationBuilder builder)
    {
        // Read even without an exporter, so a mistyped sampler stops the start where it is set, not once tracing is on.
        var sampler = TraceSampling.FromConfiguration(builder.Configuration, TraceSampling.GatewayDefault);
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("fabric-gateway"))
            .WithMetrics(m => m
                .AddMeter(GatewayTelemetry.Name, GrainsTelemetry.Name, global::Fabric.Outbound.OutboundTelemetry.Name, global::Fabric.Wasm.WasmTelemetry.Name, "Microsoft.Orleans")
                .AddAspNetCoreInstrumentation());
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.WithTracing(t => t
                    .SetSampler(sampler)
                    .AddSource(GatewayTelemetry.Name, GrainsTelemetry.Name, global::Fabric.Outbound.OutboundTelemetry.Name, "Microsoft.Orleans.Application")
                    .AddAspNetCoreInstrumentation(o => o.Filter = ctx => ctx.Request.Path != "/healthz"))
                .UseOtlpExporter();
        }

        return builder;
    }
}
