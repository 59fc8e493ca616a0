using System.Text.Json;

namespace Fabric.Bench.Report;

/// <summary>The ingest sections: maximum throughput per server (with the signed-ingest target) and the publish API.</summary>
internal static partial class ResultsReport
{
    private static void WriteIngest(Action<string> w, List<Dictionary<string, JsonElement>> lines, List<string> targets)
    {
        var ingest = Medians(lines, "ingest", l => Str(l, "server"), "rps", "p50_ms", "p99_ms");
        if (ingest.ContainsKey(Fabric))
        {
            w("## Ingest at maximum throughput");
            w("");
            w("Closed-loop POSTs of a 512-byte JSON body, one customer; Fabric acknowledges after the customer grain appended the event " +
              "(embedded: to its in-memory log; fabric-distributed: to the customer's Redis stream, through one of the two gateways).");
            w("");
            Table(w, ingest, ["req/s", "p50 ms", "p99 ms"], higherIsBetter: true);
            var ratio = Ratio(ingest, Fabric, Baseline);
            targets.Add(Target("Ingest ≥ 0.7× bare Kestrel POST req/s — embedded (in-memory log, not durable)", ratio is >= 0.7, $"{ratio:F2}×"));
            if (Ratio(ingest, FabricDistributed, Baseline) is { } durable)
            {
                var vsEmbedded = Ratio(ingest, FabricDistributed, Fabric);
                targets.Add(Target("Durable ingest (distributed, Redis AOF) ≥ 0.5× embedded", vsEmbedded is >= 0.5, $"{vsEmbedded:F2}×"));
            }

            if (Ratio(ingest, FabricSigned, BaselineSigned) is { } signed)
            {
                var plain = Ratio(ingest, FabricSigned, Baseline);
                targets.Add(Target("Signed webhook (Standard Webhooks, verified) ingest ≥ 0.6× bare Kestrel POST, same signing client — embedded", signed >= 0.6,
                    $"{signed:F2}× ({plain:F2}× the unsigned baseline)"));
            }
        }

        var publish = Medians(lines, "ingest", l => Str(l, "server"), "eps", "rps", "p50_ms", "p99_ms");
        if (PublishServers.Any(publish.ContainsKey))
        {
            var batch = lines.Where(l => Str(l, "server") == FabricBatch).Select(l => Num(l, "events_per_request")).FirstOrDefault();
            w("## Publish API: single events and batches");
            w("");
            w($"Closed-loop POSTs to `/v1/customers/bench/events` (one event each) and `/events/batch` ({batch:F0} events each), " +
              "with an API key; events/s counts acknowledged events.");
            w("");
            w("| server | events/s | req/s | p50 ms | p99 ms |");
            w("|---|---|---|---|---|");
            foreach (var server in PublishServers.Where(publish.ContainsKey))
            {
                w($"| {server} | {string.Join(" | ", publish[server].Select(Format))} |");
            }

            w("");
            if (publish.TryGetValue(FabricBatch, out var b) && publish.TryGetValue(FabricPublish, out var p) && p[0] > 0)
            {
                w($"Batch publish delivers {b[0] / p[0]:F1}× the events/s of single publish.");
                w("");
            }
        }
    }
}
