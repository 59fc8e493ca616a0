using System.Text.Json;

namespace Fabric.Bench.Report;

/// <summary>
/// The before/after section of <c>bench/run.sh --before REF</c>: every scenario measured for both builds in the same
/// run, each figure of this build against the same figure of the other, and a flag on any that is more than
/// <see cref="RegressionTolerance"/> worse. A change on the path of an event carries this table in its closing note.
/// </summary>
internal static partial class ResultsReport
{
    /// <summary>The suffix run.sh gives the other build's servers (<c>fabric-before</c>, <c>fabric-signed-before</c>, …).</summary>
    public const string BeforeSuffix = "-before";

    /// <summary>A figure more than this much worse than the other build's is flagged (0.10 = 10 %).</summary>
    private const double RegressionTolerance = 0.10;

    /// <summary>What each scenario is judged on: a metric, its label, and whether higher is better.</summary>
    private static readonly (string Scenario, string Metric, string Label, bool HigherIsBetter)[] Compared =
    [
        ("ingest", "rps", "req/s", true),
        ("ingest", "p99_ms", "p99 ms", false),
        ("e2e", "p50_ms", "p50 ms", false),
        ("e2e", "p99_ms", "p99 ms", false),
        ("e2e", "skipped", "sends skipped", false),
        ("fanout", "deliveries_per_s", "deliveries/s", true),
        ("chat", "deliveries_per_s", "deliveries/s", true),
        ("chat", "p99_ms", "p99 ms", false),
        ("outbound", "deliveries_per_s", "deliveries/s", true),
        ("outbound", "p50_ms", "p50 ms", false),
        ("outbound", "p99_ms", "p99 ms", false),
        ("idle", "bytes_per_socket", "bytes/socket", false),
    ];

    private static void WriteBeforeAfter(Action<string> w, List<Dictionary<string, JsonElement>> lines, List<string> targets)
    {
        var before = lines.Where(l => Str(l, "server").EndsWith(BeforeSuffix, StringComparison.Ordinal)).ToList();
        if (before.Count == 0)
        {
            return;
        }

        w("## Before and after: this build against `--before`, every scenario");
        w("");
        w("Each row: a figure of this build (median over runs) beside the same figure of the build from the `--before` commit, " +
          "measured alternating in the same run. **worse** marks a figure more than 10 % worse than before.");
        w("");
        w("| scenario | server | figure | now | before | now / before | |");
        w("|---|---|---|---|---|---|---|");
        var regressions = new List<string>();
        foreach (var (scenario, metric, label, higherIsBetter) in Compared)
        {
            // Each fan-out size, and each ingest surface, is a row of its own.
            var groups = lines.Where(l => Str(l, "scenario") == scenario && l.ContainsKey(metric))
                .GroupBy(l => (Server: Str(l, "server"), Sockets: scenario == "fanout" ? Num(l, "sockets") : 0))
                .ToDictionary(g => g.Key, g => Median(g.Select(l => Num(l, metric))));
            foreach (var ((server, sockets), then) in groups.Where(g => g.Key.Server.EndsWith(BeforeSuffix, StringComparison.Ordinal)).OrderBy(g => g.Key.Server))
            {
                var now = server[..^BeforeSuffix.Length];
                if (!groups.TryGetValue((now, sockets), out var value))
                {
                    continue;
                }

                var name = scenario == "fanout" ? $"fanout {sockets:N0}" : scenario;
                var ratio = then == 0 ? (value == 0 ? 1 : double.PositiveInfinity) : value / then;
                // Sends skipped are counted, not measured: any skip where there was none is worse.
                var worse = higherIsBetter ? ratio < 1 - RegressionTolerance : ratio > 1 + RegressionTolerance && value > then;
                w($"| {name} | {now} | {label} | {Format(value)} | {Format(then)} | {(double.IsInfinity(ratio) ? "—" : $"{ratio:F2}×")} | {(worse ? "**worse**" : "")} |");
                if (worse)
                {
                    regressions.Add($"{name} {now} {label}");
                }
            }
        }

        w("");
        targets.Add(Target("No figure more than 10 % worse than `--before`", regressions.Count == 0,
            regressions.Count == 0 ? "none" : string.Join("; ", regressions)));
    }
}
