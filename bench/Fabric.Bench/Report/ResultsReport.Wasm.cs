using System.Text.Json;

namespace Fabric.Bench.Report;

/// <summary>Ingest with a customer's Wasm transform (the AssemblyScript normaliser) against the same ingest without it, same run.</summary>
internal static partial class ResultsReport
{
    private const string FabricPlain = "fabric-stripe";
    private const string FabricWasm = "fabric-wasm";

    private static void WriteWasm(Action<string> w, List<Dictionary<string, JsonElement>> lines, List<string> targets)
    {
        var ingest = Medians(lines, "ingest", l => Str(l, "server"), "rps", "p50_ms", "p99_ms");
        if (!ingest.TryGetValue(FabricPlain, out var plain) || !ingest.TryGetValue(FabricWasm, out var withModule))
        {
            return;
        }

        var wasm = lines.Where(l => Str(l, "server") == FabricWasm && l.ContainsKey("wasm_us_per_call")).ToList();
        var micros = wasm.Select(l => Num(l, "wasm_us_per_call")).Order().ToList();
        var fuel = wasm.Select(l => Num(l, "wasm_fuel_per_call")).Order().ToList();
        w("## Ingest with a Wasm transform");
        w("");
        w("The same closed-loop POSTs of a 512-byte Stripe-shaped event to two unsigned sources of one gateway: `fabric-stripe` has no " +
          "module, `fabric-wasm` runs examples/wasm's AssemblyScript normaliser (Stripe/GitHub/Shopify → `{kind, amount, actor}`) " +
          "in the customer grain before each append.");
        w("");
        w("| server | req/s | p50 ms | p99 ms |");
        w("|---|---|---|---|");
        w($"| {FabricPlain} | {string.Join(" | ", plain.Select(Format))} |");
        w($"| {FabricWasm} | {string.Join(" | ", withModule.Select(Format))} |");
        w("");
        var perRun = lines.Where(l => Str(l, "scenario") == "ingest" && Str(l, "server") is FabricPlain or FabricWasm)
            .GroupBy(l => Num(l, "run")).OrderBy(g => g.Key)
            .Select(g => (Run: g.Key, Plain: g.Where(l => Str(l, "server") == FabricPlain).Select(l => Num(l, "rps")).FirstOrDefault(),
                Wasm: g.Where(l => Str(l, "server") == FabricWasm).Select(l => Num(l, "rps")).FirstOrDefault()))
            .Where(r => r.Plain > 0).ToList();
        if (perRun.Count > 0)
        {
            w("Per run (the two measured back to back in one process, alternating which goes first): " +
              string.Join(", ", perRun.Select(r => $"run {r.Run:F0} {r.Wasm / r.Plain:F2}×")) + ".");
            w("");
        }

        if (micros.Count > 0)
        {
            w($"Per event, in the module (input written, alloc + handle, result read): median **{micros[micros.Count / 2]:F2} µs** and " +
              $"{fuel[fuel.Count / 2]:F0} fuel, over {wasm.Count} run(s).");
            w("");
        }

        var ratio = Ratio(ingest, FabricWasm, FabricPlain);
        targets.Add(Target("Ingest with the AssemblyScript normaliser attached ≥ 0.9× without it, same run", ratio is >= 0.9, $"{ratio:F2}×"));
    }
}
