using Microsoft.Extensions.Configuration;

namespace Fabric.Hosting.Telemetry;

/// <summary>
/// Where each signal goes, from the OpenTelemetry standard settings <c>OTEL_TRACES_EXPORTER</c>,
/// <c>OTEL_METRICS_EXPORTER</c> and <c>OTEL_LOGS_EXPORTER</c> (comma lists; <c>none</c> for nothing). Fabric's
/// defaults differ from the specification's (<c>otlp</c> everywhere) in one way: with no
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, nothing is sent over OTLP and nothing is traced, because a span recorded for
/// nobody still costs every request its allocations. Metrics always have the Prometheus scrape endpoint.
/// An unknown exporter stops the start with a message naming the setting.
/// </summary>
public sealed record TelemetryExporters(IReadOnlySet<string> Traces, IReadOnlySet<string> Metrics, IReadOnlySet<string> Logs)
{
    public const string TracesKey = "OTEL_TRACES_EXPORTER";
    public const string MetricsKey = "OTEL_METRICS_EXPORTER";
    public const string LogsKey = "OTEL_LOGS_EXPORTER";
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public const string Otlp = "otlp";
    public const string Console = "console";
    public const string Prometheus = "prometheus";

    public static TelemetryExporters FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]);
        string[] byDefault = otlp ? [Otlp] : [];
        return new(
            Read(configuration, TracesKey, [Otlp, Console], byDefault),
            Read(configuration, MetricsKey, [Prometheus, Otlp, Console], otlp ? [Prometheus, Otlp] : [Prometheus]),
            Read(configuration, LogsKey, [Otlp], byDefault));
    }

    private static HashSet<string> Read(IConfiguration configuration, string key, string[] known, string[] byDefault)
    {
        if (configuration[key] is not { Length: > 0 } value)
        {
            return [.. byDefault];
        }

        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant()).ToHashSet();
        if (names.Remove("none") && names.Count > 0)
        {
            throw new InvalidOperationException($"{key}='{value}' mixes 'none' with exporters; use one or the other.");
        }

        return names.FirstOrDefault(n => !known.Contains(n)) is { } unknown
            ? throw new InvalidOperationException($"{key}='{value}': '{unknown}' is not an exporter here; use any of: {string.Join(", ", known)}, or none.")
            : names;
    }
}
