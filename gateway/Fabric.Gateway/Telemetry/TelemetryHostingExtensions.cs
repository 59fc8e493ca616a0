using Fabric.Hosting.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Fabric.Gateway.Telemetry;

internal static class TelemetryHostingExtensions
{
    /// <summary>
    /// Traces and metrics of the gateway and Orleans (a co-hosted silo adds its grains' own) (<c>Fabric.Hosting.Telemetry</c> says which
    /// <c>OTEL_*</c> settings choose the exporters). The sampler is <c>OTEL_TRACES_SAMPLER</c>'s, by default
    /// <c>always_on</c>: a client's <c>traceparent</c> links the trace but does not decide whether it is recorded.
    /// Spans after the first follow its decision (HTTP → grain → socket), since every sampler decides the same way
    /// within one trace.
    /// </summary>
    public static WebApplicationBuilder AddFabricTelemetry(this WebApplicationBuilder builder)
    {
        builder.AddFabricTelemetry(new TelemetryShape("fabric-gateway", TraceSampling.GatewayDefault,
            Meters: [GatewayTelemetry.Name],
            Sources: [GatewayTelemetry.Name])
        {
            // Probes and scrapes are not traced: one every few seconds from every prober would bury the events.
            Tracing = t => t.AddAspNetCoreInstrumentation(o => o.Filter = ctx => !IsOperatorPath(ctx.Request.Path)),
            Metrics = m => m.AddAspNetCoreInstrumentation(),
        });
        return builder;
    }

    private static bool IsOperatorPath(PathString path) =>
        path == "/healthz" || path == "/readyz" || path == "/metrics" || path.StartsWithSegments("/dashboard");
}
