using System.Diagnostics;
using System.Net;
using System.Text;

namespace Fabric.Bench.Load;

/// <summary>
/// Closed-loop ingest load: <c>Concurrency</c> workers each POST, wait for the answer, and POST again, for a fixed
/// time after a short warm-up. Every request is timed; the first errors stop nothing but are counted.
/// </summary>
internal static class IngestLoad
{
    public sealed record Options(Uri Url, TimeSpan Duration, int Concurrency, int BodyBytes, TimeSpan Warmup);

    public sealed record Result(long Requests, double Seconds, long Errors, double[] SortedLatenciesMs)
    {
        public double Rps => Requests / Seconds;

        public double Percentile(double p) =>
            SortedLatenciesMs.Length == 0 ? 0 : SortedLatenciesMs[Math.Min(SortedLatenciesMs.Length - 1, (int)(p * SortedLatenciesMs.Length))];

        public Dictionary<string, object> ToLine() => new()
        {
            ["requests"] = Requests,
            ["seconds"] = Math.Round(Seconds, 2),
            ["rps"] = Math.Round(Rps),
            ["p50_ms"] = Math.Round(Percentile(0.50), 3),
            ["p90_ms"] = Math.Round(Percentile(0.90), 3),
            ["p99_ms"] = Math.Round(Percentile(0.99), 3),
            ["max_ms"] = Math.Round(SortedLatenciesMs.Length == 0 ? 0 : SortedLatenciesMs[^1], 3),
            ["errors"] = Errors,
        };
    }

    public static async Task<Result> RunAsync(Options options)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency, UseProxy = false })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        var body = MakeBody(options.BodyBytes);

        // Warm-up under full load: tiered JIT/PGO, the connection pool and (for Fabric) the grain activation are not what
        // is measured. Fabric needed about 10 s of load to reach steady state here, hence the 15 s default.
        await RunWorkersAsync(http, options with { Duration = options.Warmup }, body, record: null);

        var latencies = new List<double>[options.Concurrency];
        var clock = Stopwatch.StartNew();
        var errors = await RunWorkersAsync(http, options, body, latencies);
        var seconds = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new Result(all.Length, seconds, errors, all);
    }

    private static async Task<long> RunWorkersAsync(HttpClient http, Options options, byte[] body, List<double>[]? record)
    {
        long errors = 0;
        var deadline = Stopwatch.GetTimestamp() + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, options.Concurrency).Select(async w =>
        {
            var mine = new List<double>(100_000);
            if (record is not null)
            {
                record[w] = mine;
            }

            while (Stopwatch.GetTimestamp() < deadline)
            {
                var started = Stopwatch.GetTimestamp();
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                using var response = await http.PostAsync(options.Url, content);
                await response.Content.ReadAsByteArrayAsync();
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    Interlocked.Increment(ref errors);
                    continue;
                }

                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        });
        await Task.WhenAll(workers);
        return errors;
    }

    /// <summary>A Stripe-like event padded to the requested size.</summary>
    private static byte[] MakeBody(int bytes)
    {
        const string head = "{\"type\":\"payment_intent.succeeded\",\"object\":\"event\",\"data\":{\"amount\":4200,\"currency\":\"usd\"},\"pad\":\"";
        var pad = Math.Max(0, bytes - head.Length - 2);
        return Encoding.UTF8.GetBytes(head + new string('x', pad) + "\"}");
    }
}
