using System.Text.Json;

namespace Fabric.Bench.Report;

/// <summary>The outbound section: events posted at a fixed rate, each signed and POSTed to every endpoint of the customer.</summary>
internal static partial class ResultsReport
{
    private static void WriteOutbound(Action<string> w, List<Dictionary<string, JsonElement>> lines, List<string> targets)
    {
        var outbound = Medians(lines, "outbound", l => Str(l, "server"), "deliveries_per_s", "p50_ms", "p99_ms", "max_ms", "achieved_rate");
        if (!outbound.TryGetValue(Fabric, out var f))
        {
            return;
        }

        var first = lines.First(l => Str(l, "scenario") == "outbound");
        var endpoints = Num(first, "endpoints");
        w("## Outbound webhooks");
        w("");
        w($"One customer with {endpoints:N0} endpoints on a local Kestrel receiver (every event matches every endpoint), events posted at " +
          $"{Num(first, "rate"):N0}/s to its unsigned source; each delivery a Standard Webhooks-signed POST from the endpoint's grain, read " +
          "from the customer's log by seq. Latency = the receiver's time − the stamp the event was posted with.");
        w("");
        w("| server | events/s posted | deliveries/s | p50 ms | p99 ms | max ms |");
        w("|---|---|---|---|---|---|");
        w($"| fabric | {Format(f[4])} | {Format(f[0])} | {Format(f[1])} | {Format(f[2])} | {Format(f[3])} |");
        w("");
        var ingest = Medians(lines, "ingest", l => Str(l, "server"), "rps");
        if (ingest.TryGetValue(Fabric, out var i) && i[0] > 0)
        {
            w($"Beside the ingest-only rate of the same run ({Format(i[0])} events/s, closed loop): the outbound run posted " +
              $"{f[4] / i[0]:P1} of it and delivered each to {endpoints:N0} endpoints.");
            w("");
        }

        Failures(w, lines, "outbound");
        var runs = lines.Where(l => Str(l, "scenario") == "outbound" && Str(l, "server") == Fabric).ToList();
        var whole = runs.Count(l => Num(l, "delivered") >= Num(l, "expected"));
        targets.Add(Target("Outbound: every delivery made", whole == runs.Count, $"{whole} of {runs.Count} runs"));
        targets.Add(Target("Outbound p50 ≤ 10 ms, p99 ≤ 100 ms", f[1] <= 10 && f[2] <= 100, $"{f[1]:F1} / {f[2]:F1} ms"));
    }
}
