using System.Text.Json;
using Fabric.Bench;
using Fabric.Bench.Load;
using Fabric.Bench.Outbound;
using Fabric.Bench.Report;
using Fabric.Bench.Sockets;

// fabric-bench <command> [--name value]...; every measuring command prints one JSON line (see bench/README.md).
//   ingest  --url URL [--seconds 10] [--concurrency 32] [--body-bytes 512] [--warmup 15]
//           [--sign-secret whsec_…] (Standard Webhooks) | [--publish] [--batch N] [--bearer KEY] (publish API)
//           [--attach module.wasm --admin-key KEY] (a Wasm transform on the webhook source, attached before the warm-up)
//   fanout  --kind fabric|raw|signalr --base URL [--sockets 1000] [--events 200] [--body-bytes 128] [--sources 8] [--warm-bursts 5] [--bursts 3]
//   e2e     --kind K --base URL --rate R [--sockets 1] [--seconds 10] [--warmup 10] [--body-bytes 512]
//   chat    --kind fabric|signalr --base URL [--sockets 100] [--rate 5] (messages/s per socket) [--seconds 10] [--warmup 10] [--body-bytes 256]
//   outbound --base URL --admin-key KEY [--endpoints 10] [--rate 500] (events/s) [--seconds 10] [--warmup 5] [--body-bytes 512]
//   idle    --kind K --base URL --pid PID [--sockets 10000] [--sources 8] [--settle 5]
//   soak    --gateways URL,URL --processes name=pid=metricsUrl,... --admin-key KEY --out DIR [--seconds 600] [--sample 10]
//           [--rate 100] (webhooks/s) [--publish-rate 20] [--sockets 50] (churning) [--name soak] (bench/soak.sh runs it)
//   report  --in results.jsonl --out DIR [--date yyyy-MM-dd] [--notes FILE]
// Common: --label NAME (which server this is, e.g. "fabric", "kestrel", "node-ws", "signalr"), --run N.
var a = new Args(args);
Dictionary<string, object> line;
switch (a.Command)
{
    case "ingest":
        var ingestUrl = new Uri(a.Require("url"));
        var module = a.Get("attach", "");
        var transform = module.Length > 0 ? await IngestLoad.AttachAsync(ingestUrl, module, a.Require("admin-key")) : null;
        var ingest = await IngestLoad.RunAsync(new IngestLoad.Options(
            ingestUrl, a.Seconds("seconds", 10), a.Int("concurrency", 32), a.Int("body-bytes", 512), a.Seconds("warmup", 15),
            SignSecret: a.Get("sign-secret", "") is { Length: > 0 } secret ? secret : null, Batch: a.Int("batch", 0),
            Publish: a.Has("publish"), Bearer: a.Get("bearer", "") is { Length: > 0 } bearer ? bearer : null));
        line = ingest.ToLine();
        if (transform is not null)
        {
            var (micros, fuel, calls) = await IngestLoad.ModuleCostAsync(ingestUrl, transform, a.Require("admin-key"));
            line["wasm_us_per_call"] = Math.Round(micros, 2);
            line["wasm_fuel_per_call"] = Math.Round(fuel);
            line["wasm_calls"] = calls;
        }

        break;
    case "fanout":
        line = await Scenarios.FanOutAsync(Target.For(a.Require("kind"), new Uri(a.Require("base"))), a);
        break;
    case "e2e":
        line = await Scenarios.EndToEndAsync(Target.For(a.Require("kind"), new Uri(a.Require("base"))), a);
        break;
    case "chat":
        line = await Scenarios.ChatAsync(Target.For(a.Require("kind"), new Uri(a.Require("base"))), a);
        break;
    case "outbound":
        line = await OutboundScenario.RunAsync(a);
        break;
    case "idle":
        line = await Scenarios.IdleAsync(Target.For(a.Require("kind"), new Uri(a.Require("base"))), a);
        break;
    case "soak":
        line = await Fabric.Bench.Soak.SoakScenario.RunAsync(a);
        Console.WriteLine(JsonSerializer.Serialize(line));
        return line["complete"] is true ? 0 : 1;
    case "report":
        ResultsReport.Write(a.Require("in"), a.Require("out"), a.Get("date", DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)), a.Get("notes", ""));
        return 0;
    default:
        Console.Error.WriteLine("usage: fabric-bench ingest|fanout|e2e|chat|outbound|idle|soak|report [--name value]... (see bench/README.md)");
        return 2;
}

line = new Dictionary<string, object>
{
    ["scenario"] = a.Command,
    ["server"] = a.Get("label", a.Get("kind", "")),
    ["run"] = a.Int("run", 1),
}.Concat(line).ToDictionary();
Console.WriteLine(JsonSerializer.Serialize(line));
return 0;
