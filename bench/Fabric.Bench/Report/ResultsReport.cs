using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Fabric.Bench.Report;

/// <summary>
/// Turns one run's results lines into <c>&lt;date&gt;.md</c> (medians over runs, each with its ratio to the baseline
/// and to the peers, the targets met or not, the machine) and PNG plots beside it.
/// </summary>
internal static partial class ResultsReport
{
    public const string Fabric = "fabric";
    public const string Baseline = "kestrel";
    public const string FabricDistributed = "fabric-distributed";
    public const string FabricSigned = "fabric-signed";
    public const string FabricPublish = "fabric-publish";
    public const string FabricBatch = "fabric-batch";
    public const string BaselineSigned = "kestrel-signed";

    /// <summary>The gateway built from another commit (<c>bench/run.sh --before REF</c>): a change's before figure, same run.</summary>
    public const string FabricBefore = "fabric-before";
    public static readonly string[] Servers = [Fabric, FabricBefore, FabricQuiet, FabricSigned, FabricDistributed, Baseline, BaselineSigned, "signalr", "node-ws"];
    private static readonly string[] PublishServers = [FabricPublish, FabricBatch];

    public static void Write(string input, string outDir, string date, string notes)
    {
        var lines = File.ReadLines(input).Where(l => l.StartsWith('{'))
            .Select(l => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(l)!).ToList();
        Directory.CreateDirectory(outDir);
        var md = new StringBuilder();
        Action<string> w = s => md.AppendLine(s);
        var runs = lines.Select(l => Num(l, "run")).DefaultIfEmpty(0).Max();
        w($"# Fabric benchmarks — {date}");
        w("");
        w($"One run of `bench/run.sh`: every server measured side by side, alternating, {runs} time(s) each; each figure is the median " +
          "over runs. Only the ratios mean anything: load generator and servers share this machine.");
        w("");
        w("Servers: **fabric** = the gateway in embedded mode (co-hosted silo, in-memory log), Release; **fabric-distributed** = " +
          "`scripts/cluster` (Redis with AOF everysec, 2 silos, 2 gateways as separate processes on this machine), ingest only; **fabric-signed** = " +
          "embedded, each webhook a Standard Webhooks delivery verified by the gateway; **fabric-publish** / **fabric-batch** = the publish API, " +
          "one event or a batch per request; **kestrel-signed** = the baseline driven by the same signing client (Kestrel ignores the headers); **kestrel** = the baseline, " +
          "bare Kestrel (`bench/Fabric.Bench.Baseline`: POST that reads the body; a WebSocket broadcast loop); **signalr** = an " +
          "ASP.NET Core SignalR hub broadcast (`bench/peers/signalr`); **node-ws** = a plain Node `ws` broadcast server (`bench/peers/node-ws`); " +
          "**fabric-before** (when present) = the build of the commit given to `--before`, run exactly like **fabric** (its ingest surfaces and cluster carry the same suffix); " +
          "**fabric-quiet** = today's gateway with no metrics exporter and no tracing (e2e and fan-out), for what telemetry costs. " +
          "The client (`bench/Fabric.Bench`) is the same for all of them.");
        w("");
        w("## Machine");
        w("");
        foreach (var fact in Machine())
        {
            w($"- {fact}");
        }

        w("");
        var targets = new List<string>();
        var plots = new List<string>();

        WriteIngest(w, lines, targets);
        WriteWasm(w, lines, targets);

        var e2e = Medians(lines, "e2e", l => Str(l, "server"), "p50_ms", "p99_ms", "achieved_rate", "max_ms");
        if (e2e.Count > 0)
        {
            var rate = lines.Where(l => Str(l, "scenario") == "e2e").Select(l => Num(l, "rate")).FirstOrDefault();
            w("## End-to-end latency at half of Fabric's maximum ingest");
            w("");
            w($"POST → socket receive, {rate:F0} events/s offered open-loop, one socket; the send time travels in the payload.");
            w("");
            Table(w, e2e, ["p50 ms", "p99 ms", "achieved/s", "max ms"], higherIsBetter: false);
            w("Sends skipped by the load generator (its 512 posts in flight were all unanswered when the next was due), per run: " +
              string.Join(", ", lines.Where(l => Str(l, "scenario") == "e2e").GroupBy(l => Str(l, "server"))
                  .Select(g => $"{g.Key} {string.Join("/", g.Select(l => Num(l, "skipped").ToString("N0", CultureInfo.InvariantCulture)))}")) + ".");
            w("");
            Failures(w, lines, "e2e");
            var f = e2e.GetValueOrDefault(Fabric);
            if (f is not null)
            {
                targets.Add(Target("End-to-end p50 ≤ 1.5 ms", f[0] <= 1.5, $"{f[0]:F2} ms"));
                var fabricRuns = lines.Where(l => Str(l, "scenario") == "e2e" && Str(l, "server") == Fabric).ToList();
                var whole = fabricRuns.Count(l => l.TryGetValue("complete", out var c) && c.ValueKind == JsonValueKind.True
                    && !(l.TryGetValue("closes", out var closes) && closes.ValueKind == JsonValueKind.Object && closes.EnumerateObject().Any()));
                targets.Add(Target("End-to-end: every event delivered, no socket closed", whole == fabricRuns.Count, $"{whole} of {fabricRuns.Count} runs"));
                var skipped = fabricRuns.Sum(l => Num(l, "skipped"));
                targets.Add(Target("End-to-end: the load generator never skipped a send", skipped == 0, $"{skipped:N0} skipped over {fabricRuns.Count} runs"));
                if (e2e.GetValueOrDefault("signalr") is { } signalr)
                {
                    targets.Add(Target("End-to-end p99 within 2× SignalR's", f[1] <= 2 * signalr[1], $"{f[1] / signalr[1]:F2}× ({signalr[1]:F2} ms)"));
                }
            }

            plots.Add(LatencyCdf(lines, outDir, date));
        }

        var fanout = lines.Where(l => Str(l, "scenario") == "fanout").Select(l => Num(l, "sockets")).Distinct().Order().ToList();
        if (fanout.Count > 0)
        {
            w("## Fan-out to one customer's sockets");
            w("");
            w("A burst of events posted by 4 workers; deliveries/s = deliveries counted / (last delivery − first post).");
            w("");
            foreach (var sockets in fanout)
            {
                var rows = Medians(lines.Where(l => Num(l, "sockets") == sockets).ToList(), "fanout", l => Str(l, "server"), "deliveries_per_s", "p50_ms", "p99_ms");
                w($"### {sockets:N0} sockets");
                w("");
                Table(w, rows, ["deliveries/s", "p50 ms", "p99 ms"], higherIsBetter: true);
                if (Ratio(rows, Fabric, "signalr") is { } ratio && sockets is 1_000 or 10_000)
                {
                    // ARCHITECTURE.md: 2× SignalR at 1,000 sockets, 3× at 10,000.
                    var goal = sockets == 1_000 ? 2.0 : 3.0;
                    targets.Add(Target($"Fan-out to {sockets:N0} sockets ≥ {goal}× SignalR", ratio >= goal, $"{ratio:F2}×"));
                }

                if (sockets == fanout[^1])
                {
                    var vsNode = Ratio(rows, Fabric, "node-ws");
                    targets.Add(Target($"Fan-out to {sockets:N0} sockets ≥ 2× Node ws", vsNode is >= 2, $"{vsNode:F2}×"));
                }

                if (Ratio(rows, Fabric, FabricBefore) is { } vsBefore)
                {
                    targets.Add(Target($"Fan-out to {sockets:N0} sockets within 5 % of fabric-before", vsBefore >= 0.95, $"{vsBefore:F3}×"));
                }
            }

            Failures(w, lines, "fanout");
            var incomplete = lines.Count(l => Str(l, "scenario") == "fanout" && l.TryGetValue("complete", out var c) && c.ValueKind == JsonValueKind.False);
            if (incomplete > 0)
            {
                w($"{incomplete} fan-out run(s) did not deliver every event before going quiet (counted as measured).");
                w("");
            }

            plots.Add(FanOutPlot(lines, outDir, date));
        }

        WriteChat(w, lines, targets);
        WriteOutbound(w, lines, targets);
        WriteIdle(w, lines, targets, plots, outDir, date);
        WriteTelemetryCost(w, lines, targets);
        WriteBeforeAfter(w, lines, targets);

        w("## Targets (ARCHITECTURE.md)");
        w("");
        w("| target | result | met |");
        w("|---|---|---|");
        targets.ForEach(w);
        w("");
        w("## Plots");
        w("");
        plots.ForEach(p => w($"![{p}]({p})"));
        w("");
        if (notes.Length > 0 && File.Exists(notes))
        {
            w(File.ReadAllText(notes).TrimEnd());
            w("");
        }

        File.WriteAllText(Path.Combine(outDir, date + ".md"), md.ToString());
        Console.WriteLine($"wrote {Path.Combine(outDir, date + ".md")} and {plots.Count} plot(s)");
    }

    /// <summary>server → the median of each metric over that server's runs.</summary>
    private static Dictionary<string, double[]> Medians(List<Dictionary<string, JsonElement>> lines, string scenario, Func<Dictionary<string, JsonElement>, string> key, params string[] metrics) =>
        lines.Where(l => Str(l, "scenario") == scenario).GroupBy(key)
            .ToDictionary(g => g.Key, g => metrics.Select(m => Median(g.Select(l => Num(l, m)))).ToArray());

    private static void Table(Action<string> w, Dictionary<string, double[]> rows, string[] columns, bool higherIsBetter)
    {
        var present = Servers.Where(rows.ContainsKey).ToList();
        var peers = present.Where(s => s != Fabric).ToList();
        w($"| server | {string.Join(" | ", columns)} | {string.Join(" | ", peers.Select(p => $"{columns[0]} vs {p}"))} |");
        w($"|---|{string.Concat(columns.Select(_ => "---|"))}{string.Concat(peers.Select(_ => "---|"))}");
        foreach (var server in present)
        {
            var v = rows[server];
            var ratios = peers.Select(p => rows[p][0] == 0 ? "—" : $"{v[0] / rows[p][0]:F2}×");
            w($"| {server} | {string.Join(" | ", v.Select(Format))} | {string.Join(" | ", ratios)} |");
        }

        w("");
        w(higherIsBetter ? "_Ratios: this row's first column over the other server's; above 1 is better._" : "_Ratios: this row's first column over the other server's; below 1 is better._");
        w("");
    }

    private static double? Ratio(Dictionary<string, double[]> rows, string a, string b) =>
        rows.TryGetValue(a, out var x) && rows.TryGetValue(b, out var y) && y[0] > 0 ? x[0] / y[0] : null;

    private static string Target(string name, bool met, string result) => $"| {name} | {result} | {(met ? "**met**" : "not met")} |";

    /// <summary>
    /// Every run that delivered less than expected or had sockets closed by the server, said in words: a latency table
    /// of the events that did arrive would otherwise read as a result.
    /// </summary>
    private static void Failures(Action<string> w, List<Dictionary<string, JsonElement>> lines, string scenario)
    {
        var any = false;
        foreach (var l in lines.Where(l => Str(l, "scenario") == scenario))
        {
            var delivered = Num(l, "delivered");
            var expected = l.ContainsKey("expected") ? Num(l, "expected") : delivered;
            var closes = l.TryGetValue("closes", out var c) && c.ValueKind == JsonValueKind.Object
                ? string.Join(", ", c.EnumerateObject().Select(p => $"{p.Value.GetInt32()} × {p.Name}"))
                : "";
            if (delivered < expected || closes.Length > 0)
            {
                w($"- **{Str(l, "server")}** run {Num(l, "run"):F0}: delivered {delivered:N0} of {expected:N0}" +
                  (closes.Length > 0 ? $"; sockets closed by the server: {closes}" : "") + ".");
                any = true;
            }
        }

        if (any)
        {
            w("");
        }
    }

    private static string LatencyCdf(List<Dictionary<string, JsonElement>> lines, string outDir, string date)
    {
        var plot = new ScottPlot.Plot();
        var p99Max = 0.0;
        foreach (var server in Servers)
        {
            // The run with the median p99 stands for the server.
            var runs = lines.Where(l => Str(l, "scenario") == "e2e" && Str(l, "server") == server).OrderBy(l => Num(l, "p99_ms")).ToList();
            if (runs.Count == 0 || !runs[runs.Count / 2].TryGetValue("cdf_ms", out var cdf))
            {
                continue;
            }

            var xs = cdf.EnumerateArray().Select(v => v.GetDouble()).ToArray();
            if (xs.Length < 2)
            {
                // Nothing delivered: no curve (the report's table says so).
                continue;
            }

            var ys = Enumerable.Range(0, xs.Length).Select(i => Math.Min(100, i * 100.0 / (xs.Length - 1))).ToArray();
            plot.Add.ScatterLine(xs, ys).LegendText = server;
            p99Max = Math.Max(p99Max, xs[Math.Min(xs.Length - 1, (int)(0.99 * (xs.Length - 1)))]);
        }

        // Up to the worst p99, with room: the single slowest delivery would otherwise squash every curve to the left.
        plot.Axes.SetLimits(0, Math.Max(1, p99Max * 1.3), 0, 100);
        plot.Title("End-to-end latency CDF (POST → socket), to p99");
        plot.XLabel("latency (ms)");
        plot.YLabel("percentile");
        plot.ShowLegend();
        return Save(plot, outDir, $"{date}-latency-cdf.png");
    }

    private static string FanOutPlot(List<Dictionary<string, JsonElement>> lines, string outDir, string date)
    {
        var plot = new ScottPlot.Plot();
        foreach (var server in Servers)
        {
            var points = lines.Where(l => Str(l, "scenario") == "fanout" && Str(l, "server") == server)
                .GroupBy(l => Num(l, "sockets")).OrderBy(g => g.Key)
                .Select(g => (x: g.Key, y: Median(g.Select(l => Num(l, "deliveries_per_s"))))).ToArray();
            if (points.Length > 0)
            {
                var line = plot.Add.Scatter(points.Select(p => p.x).ToArray(), points.Select(p => p.y).ToArray());
                line.LegendText = server;
            }
        }

        plot.Title("Fan-out: deliveries/s vs sockets of one customer");
        plot.XLabel("sockets");
        plot.YLabel("deliveries/s");
        plot.ShowLegend();
        return Save(plot, outDir, $"{date}-fanout.png");
    }

    private static string Save(ScottPlot.Plot plot, string outDir, string name)
    {
        plot.SavePng(Path.Combine(outDir, name), 800, 500);
        return name;
    }

    private static IEnumerable<string> Machine()
    {
        yield return $"{Environment.ProcessorCount} cores: {CpuModel()}";
        yield return $"memory: {MemTotal()}";
        yield return $"OS: {RuntimeInformation.OSDescription}; .NET {Environment.Version}";
        yield return "load generator and every server on this one machine, over loopback";
    }

    private static string CpuModel() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : "unknown";

    private static string MemTotal() =>
        File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").First().Split(':', 2)[1].Trim() : "unknown";

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? 0 : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static string Format(double v) => v >= 100 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Str(Dictionary<string, JsonElement> l, string k) => l.TryGetValue(k, out var v) ? v.ToString() : "";

    private static double Num(Dictionary<string, JsonElement> l, string k) =>
        l.TryGetValue(k, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
}
