using System.Globalization;
using System.Text.Json;

namespace Fabric.Bench.Report;

/// <summary>The idle-socket section: memory per socket, and the memory curve as sockets are added.</summary>
internal static partial class ResultsReport
{
    private static void WriteIdle(Action<string> w, List<Dictionary<string, JsonElement>> lines, List<string> targets, List<string> plots, string outDir, string date)
    {
        var idle = Medians(lines, "idle", l => Str(l, "server"), "bytes_per_socket", "rss_after_mb", "sockets");
        if (idle.Count > 0)
        {
            w("## Idle sockets: server memory per socket");
            w("");
            w("RSS of the server process after the sockets connected, hand-shook (Fabric: subscribed) and sat idle, minus RSS before, " +
              "divided by their number. Lower is better; ratios are this server's bytes over the other's.");
            w("");
            Table(w, idle, ["bytes/socket", "RSS after MB", "sockets"], higherIsBetter: false);
            var f = idle.GetValueOrDefault(Fabric);
            if (f is not null)
            {
                targets.Add(Target("Idle socket ≤ 8 KB", f[0] <= 8000, $"{f[0] / 1000:F1} KB at {f[2]:N0} sockets → {f[0] * 100_000 / 1e9:F2} GB per 100,000"));
                if (idle.GetValueOrDefault(FabricBefore) is { } before)
                {
                    targets.Add(Target("Idle socket within 5 % of fabric-before", f[0] <= before[0] * 1.05, $"{f[0] / before[0]:F3}× ({before[0] / 1000:F1} KB before)"));
                }
            }

            plots.Add(IdlePlot(idle, outDir, date));
            if (ScaleCurves(lines) is { Count: > 0 } curves)
            {
                w("### Memory as sockets are added, up to this machine's open-file limit");
                w("");
                w("Server RSS (MB) after each step of idle sockets (the run with the median bytes/socket), up to the most one process " +
                  "can hold here (20,000 open files per process: client and server each hold one per socket).");
                w("");
                var steps = curves.Values.SelectMany(c => c.Select(p => p.Sockets)).Distinct().Order().ToArray();
                w("| server | " + string.Join(" | ", steps.Select(x => x.ToString("N0", CultureInfo.InvariantCulture))) + " |");
                w("|---|" + string.Concat(steps.Select(_ => "---|")));
                foreach (var (server, curve) in curves)
                {
                    w($"| {server} | " + string.Join(" | ", steps.Select(x => curve.FirstOrDefault(p => p.Sockets == x) is { Rss: > 0 } p ? Format(p.Rss) : "—")) + " |");
                }

                w("");
                plots.Add(ScalePlot(curves, outDir, date));
            }
        }
    }

    private static string IdlePlot(Dictionary<string, double[]> idle, string outDir, string date)
    {
        var plot = new ScottPlot.Plot();
        var present = Servers.Where(idle.ContainsKey).ToArray();
        var bars = present.Select((s, i) => new ScottPlot.Bar { Position = i, Value = idle[s][0] / 1000 }).ToList();
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(present.Select((_, i) => (double)i).ToArray(), present);
        plot.Title("Server memory per idle socket");
        plot.YLabel("KB per socket");
        return Save(plot, outDir, $"{date}-idle.png");
    }

    /// <summary>Each server's memory curve (sockets, RSS MB) from its idle run with the median bytes per socket.</summary>
    private static Dictionary<string, List<(double Sockets, double Rss)>> ScaleCurves(List<Dictionary<string, JsonElement>> lines)
    {
        var curves = new Dictionary<string, List<(double, double)>>();
        foreach (var server in Servers)
        {
            var runs = lines.Where(l => Str(l, "scenario") == "idle" && Str(l, "server") == server && l.ContainsKey("curve"))
                .OrderBy(l => Num(l, "bytes_per_socket")).ToList();
            if (runs.Count > 0)
            {
                curves[server] = [.. runs[runs.Count / 2]["curve"].EnumerateArray().Select(p => (p[0].GetDouble(), p[1].GetDouble()))];
            }
        }

        return curves;
    }

    private static string ScalePlot(Dictionary<string, List<(double Sockets, double Rss)>> curves, string outDir, string date)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (server, curve) in curves)
        {
            plot.Add.Scatter(curve.Select(p => p.Sockets).ToArray(), curve.Select(p => p.Rss).ToArray()).LegendText = server;
        }

        plot.Title("Server memory vs idle sockets");
        plot.XLabel("idle sockets");
        plot.YLabel("RSS (MB)");
        plot.ShowLegend();
        return Save(plot, outDir, $"{date}-scale.png");
    }
}
