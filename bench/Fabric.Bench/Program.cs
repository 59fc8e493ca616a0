using System.Globalization;
using Fabric.Bench;

// fabric-bench ingest --url URL [--seconds 10] [--concurrency 32] [--body-bytes 512] [--warmup 15]
// Prints one line of JSON: {"requests":N,"seconds":S,"rps":R,"p50_ms":..,"p90_ms":..,"p99_ms":..,"max_ms":..,"errors":E}
if (args.Length == 0 || args[0] != "ingest")
{
    Console.Error.WriteLine("usage: fabric-bench ingest --url URL [--seconds 10] [--concurrency 32] [--body-bytes 512]");
    return 2;
}

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

var options = new IngestLoad.Options(
    new Uri(Arg("--url", "http://127.0.0.1:5000/v1/webhooks/bench/load")),
    TimeSpan.FromSeconds(double.Parse(Arg("--seconds", "10"), CultureInfo.InvariantCulture)),
    int.Parse(Arg("--concurrency", "32"), CultureInfo.InvariantCulture),
    int.Parse(Arg("--body-bytes", "512"), CultureInfo.InvariantCulture),
    TimeSpan.FromSeconds(double.Parse(Arg("--warmup", "15"), CultureInfo.InvariantCulture)));
var result = await IngestLoad.RunAsync(options);
Console.WriteLine(result.ToJson());
return result.Errors == 0 ? 0 : 1;
