using System.Text.Json;

namespace Fabric.Bench.Report;

/// <summary>
/// What telemetry costs where it runs per delivery: <see cref="Fabric"/> (defaults: the Prometheus exporter listening to
/// every instrument) beside <see cref="FabricQuiet"/> (no metrics exporter, no tracing), same build, same run.
/// </summary>
internal static partial class ResultsReport
{
    /// <summary>Today's gateway with <c>OTEL_METRICS_EXPORTER=none</c> and <c>OTEL_TRACES_EXPORTER=none</c>.</summary>
    public const string FabricQuiet = "fabric-quiet";

    private static void WriteTelemetryCost(Action<string> w, List<Dictionary<string, JsonElement>> lines, List<string> targets)
    {
        var rows = new List<(string Figure, double On, double Off, bool HigherIsBetter)>();
        var e2e = Medians(lines, "e2e", l => Str(l, "server"), "p50_ms", "p99_ms");
        if (e2e.TryGetValue(Fabric, out var on) && e2e.TryGetValue(FabricQuiet, out var off))
        {
            rows.Add(("e2e p50 ms", on[0], off[0], false));
            rows.Add(("e2e p99 ms", on[1], off[1], false));
        }

        foreach (var sockets in lines.Where(l => Str(l, "scenario") == "fanout").Select(l => Num(l, "sockets")).Distinct().Order())
        {
            var fanout = Medians(lines.Where(l => Num(l, "sockets") == sockets).ToList(), "fanout", l => Str(l, "server"), "deliveries_per_s");
            if (fanout.TryGetValue(Fabric, out var a) && fanout.TryGetValue(FabricQuiet, out var b))
            {
                rows.Add(($"fan-out {sockets:N0} deliveries/s", a[0], b[0], true));
            }
        }

        if (rows.Count == 0)
        {
            return;
        }

        w("## Telemetry on and off");
        w("");
        w("**fabric** (defaults: metrics exported for Prometheus, so every instrument has a listener) beside **fabric-quiet** (the " +
          "same build with `OTEL_METRICS_EXPORTER=none OTEL_TRACES_EXPORTER=none`), same run: what the instruments and spans on " +
          "the path of an event cost when nobody looks at a trace.");
        w("");
        w("| figure | telemetry on | off | on / off |");
        w("|---|---|---|---|");
        foreach (var (figure, a, b, _) in rows)
        {
            w($"| {figure} | {Format(a)} | {Format(b)} | {(b == 0 ? "—" : $"{a / b:F2}×")} |");
        }

        w("");
        var costly = rows.Where(r => r.Off > 0 && (r.HigherIsBetter ? r.On / r.Off < 1 - RegressionTolerance : r.On / r.Off > 1 + RegressionTolerance)).Select(r => r.Figure).ToList();
        targets.Add(Target("Telemetry near-free on the path of an event: no figure more than 10 % worse than with it off", costly.Count == 0,
            costly.Count == 0 ? "none" : string.Join("; ", costly)));
    }
}
