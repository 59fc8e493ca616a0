using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Fabric.Hosting.Telemetry;

/// <summary>What one kind of Fabric process traces and measures.</summary>
/// <param name="ServiceName"><c>service.name</c> of its resource (each process also gets its own <c>service.instance.id</c>).</param>
/// <param name="DefaultSampler">The sampler when <c>OTEL_TRACES_SAMPLER</c> is unset (see <see cref="TraceSampling"/>).</param>
/// <param name="Meters">Its meters, beside Orleans' and the runtime's.</param>
/// <param name="Sources">Its ActivitySources, beside Orleans' application calls and HttpClient's.</param>
public sealed record TelemetryShape(string ServiceName, string DefaultSampler, string[] Meters, string[] Sources)
{
    /// <summary>Extra instrumentation for this process (the gateway's ASP.NET Core requests).</summary>
    public Action<TracerProviderBuilder>? Tracing { get; init; }

    public Action<MeterProviderBuilder>? Metrics { get; init; }
}

/// <summary>
/// The OpenTelemetry setup the gateway and the silo share: resource, sampler, sources and meters, and the exporters the
/// standard <c>OTEL_*</c> settings name (<see cref="TelemetryExporters"/>). Logs keep their trace and span ids through
/// the host's activity tracking and, with an OTLP endpoint, go out over OTLP with them.
/// </summary>
public static class TelemetryHostingExtensions
{
    /// <summary>Orleans' grain-call spans (the application's calls, not the runtime's own).</summary>
    public const string OrleansSource = "Microsoft.Orleans.Application";

    /// <summary>HttpClient's spans (.NET 9 and later emit them natively): the outbound attempts' POSTs.</summary>
    public const string HttpClientSource = "System.Net.Http";

    public static IHostApplicationBuilder AddFabricTelemetry(this IHostApplicationBuilder builder, TelemetryShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        // Both read even when nothing would use them, so a mistyped value stops the start where it is set.
        var sampler = TraceSampling.FromConfiguration(builder.Configuration, shape.DefaultSampler);
        var exporters = TelemetryExporters.FromConfiguration(builder.Configuration);
        builder.Services.AddSingleton(exporters);
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.SectionName);
        var options = builder.Configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();

        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(shape.ServiceName))
            .WithMetrics(m =>
            {
                // System.Runtime: the runtime's own meter (GC heap, working set, thread pool), no package needed.
                m.AddMeter([.. shape.Meters, "Microsoft.Orleans", "System.Runtime"]);
                shape.Metrics?.Invoke(m);
                if (exporters.Metrics.Contains(TelemetryExporters.Prometheus))
                {
                    // No response cache: a scrape sees the values of that moment (Prometheus scrapes every 15 s anyway).
                    m.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                }

                if (exporters.Metrics.Contains(TelemetryExporters.Otlp))
                {
                    m.AddOtlpExporter();
                }

                if (exporters.Metrics.Contains(TelemetryExporters.Console))
                {
                    m.AddConsoleExporter();
                }
            });

        if (exporters.Traces.Count > 0 || options.AlwaysTrace)
        {
            otel.WithTracing(t =>
            {
                t.SetSampler(sampler).AddSource([.. shape.Sources, OrleansSource, HttpClientSource]);
                shape.Tracing?.Invoke(t);
                if (exporters.Traces.Contains(TelemetryExporters.Otlp))
                {
                    t.AddOtlpExporter();
                }

                if (exporters.Traces.Contains(TelemetryExporters.Console))
                {
                    t.AddConsoleExporter();
                }
            });
        }

        if (exporters.Logs.Contains(TelemetryExporters.Otlp))
        {
            otel.WithLogging(l => l.AddOtlpExporter(), o => o.IncludeScopes = true);
        }

        return builder;
    }

    /// <summary><c>GET /metrics</c> (Prometheus text format) when the Prometheus exporter is on.</summary>
    public static WebApplication MapFabricTelemetry(this WebApplication app)
    {
        if (app.Services.GetRequiredService<TelemetryExporters>().Metrics.Contains(TelemetryExporters.Prometheus))
        {
            app.MapPrometheusScrapingEndpoint("/metrics");
        }

        return app;
    }
}
