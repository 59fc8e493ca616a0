using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Fabric.Bench.Soak;

/// <summary>The soak's results file: what was delivered, memory per process over time (a plot) and its flatness.</summary>
internal static class SoakReport
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Write(string outDir, string name, Dictionary<string, object> line, List<SoakScenario.Sample> samples, string[] processes)
    {
        var plot = new ScottPlot.Plot();
        foreach (var process in processes)
        {
            var mine = samples.Where(s => s.Process == process).ToList();
            plot.Add.Scatter(mine.Select(s => s.At / 60).ToArray(), mine.Select(s => s.RssMb).ToArray()).LegendText = process + " RSS";
            plot.Add.Scatter(mine.Select(s => s.At / 60).ToArray(), mine.Select(s => s.GcHeapMb).ToArray()).LegendText = process + " GC heap";
        }

        plot.Title("Soak: memory per process");
        plot.XLabel("minutes");
        plot.YLabel("MB");
        plot.ShowLegend();
        plot.SavePng(Path.Combine(outDir, name + ".png"), 1000, 600);

        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Soak: {line["seconds"]} s of steady ingest");
        md.AppendLine();
        md.AppendLine("`bench/soak.sh`: signed webhooks and socket publishes into a distributed fabric (2 silos, 2 gateways, Redis), a witness socket, churning sockets that resume with `since`, one outbound endpoint.");
        md.AppendLine();
        md.AppendLine("| delivered | value |");
        md.AppendLine("|---|---|");
        foreach (var key in new[] { "events", "webhooks", "socket_publishes", "post_errors", "witness_events", "witness_gaps", "witness_reconnects", "endpoint_events", "endpoint_missing", "socket_connects", "socket_resumes", "resume_gaps", "socket_events", "complete" })
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {key} | {line[key]} |");
        }

        md.AppendLine();
        md.AppendLine("Memory over the second half of the run (least-squares slope; flat = the growth over the half is within twice the residual noise, or under 5 MB):");
        md.AppendLine();
        md.AppendLine("| process | RSS first → last (MB) | RSS slope (MB/min) | RSS noise (MB) | GC heap slope (MB/min) | GC heap noise (MB) | flat |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var m in (List<Dictionary<string, object>>)line["memory"])
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {m["process"]} | {m["rss_first_mb"]} → {m["rss_last_mb"]} | {m["rss_slope_mb_per_min"]} | {m["rss_noise_mb"]} | {m["gc_heap_slope_mb_per_min"]} | {m["gc_heap_noise_mb"]} | {m["flat"]} |");
        }

        md.AppendLine();
        md.AppendLine("Where an RSS slope comes from (MB/min over the same half): anonymous memory (GC heap and native allocations), shared memory (.NET's double-mapped JIT code and stubs), and what the GC has committed:");
        md.AppendLine();
        md.AppendLine("| process | RSS anon slope | RSS shmem slope | GC committed slope |");
        md.AppendLine("|---|---|---|---|");
        foreach (var m in (List<Dictionary<string, object>>)line["memory"])
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {m["process"]} | {m["rss_anon_slope_mb_per_min"]} | {m["rss_shmem_slope_mb_per_min"]} | {m["gc_committed_slope_mb_per_min"]} |");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"![memory]({name}.png)");
        File.WriteAllText(Path.Combine(outDir, name + ".md"), md.ToString());
        File.WriteAllText(Path.Combine(outDir, name + ".json"), JsonSerializer.Serialize(line, Indented));
    }
}
