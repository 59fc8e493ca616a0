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
    /// <param name="Url">Where to POST.</param>
    /// <param name="Duration">How long to measure.</param>
    /// <param name="Concurrency">Closed-loop workers.</param>
    /// <param name="BodyBytes">Size of one event's body.</param>
    /// <param name="Warmup">Load before measuring.</param>
    /// <param name="SignSecret">When set, each request is a Standard Webhooks delivery signed with this <c>whsec_</c> secret (a fresh id and timestamp each).</param>
    /// <param name="Batch">When above 0, each request is a publish-API batch of this many events; when 0, a single publish-API event if <paramref name="Publish"/>.</param>
    /// <param name="Publish">Post publish-API bodies (<c>{"type","data"}</c>) instead of a webhook body.</param>
    /// <param name="Bearer">An API key for the publish API.</param>
    public sealed record Options(Uri Url, TimeSpan Duration, int Concurrency, int BodyBytes, TimeSpan Warmup,
        string? SignSecret = null, int Batch = 0, bool Publish = false, string? Bearer = null);

    /// <summary>
    /// Attaches a Wasm module to the webhook source in <paramref name="url"/> (<c>/v1/webhooks/{customer}/{source}</c>)
    /// through the admin API, before the warm-up; returns the transform's admin path, to read its counters after the run.
    /// </summary>
    public static async Task<string> AttachAsync(Uri url, string module, string adminKey)
    {
        var parts = url.AbsolutePath.Trim('/').Split('/');
        var path = $"/v1/admin/customers/{parts[2]}/sources/{parts[3]}/transform";
        using var http = new HttpClient { BaseAddress = new Uri(url.GetLeftPart(UriPartial.Authority)) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminKey);
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(module));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/wasm");
        (await http.PutAsync(path, content)).EnsureSuccessStatusCode();
        return path;
    }

    /// <summary>The module's own figures after a run: µs and fuel per call, from the transform's counters.</summary>
    public static async Task<(double MicrosPerCall, double FuelPerCall, long Calls)> ModuleCostAsync(Uri url, string path, string adminKey)
    {
        using var http = new HttpClient { BaseAddress = new Uri(url.GetLeftPart(UriPartial.Authority)) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminKey);
        using var view = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(path));
        var c = view.RootElement.GetProperty("counters");
        var calls = Math.Max(1, c.GetProperty("calls").GetInt64());
        return (c.GetProperty("micros").GetInt64() / (double)calls, c.GetProperty("fuel").GetInt64() / (double)calls, calls);
    }

    public sealed record Result(long Requests, double Seconds, long Errors, double[] SortedLatenciesMs, int EventsPerRequest)
    {
        public double Rps => Requests / Seconds;

        public double Eps => Requests * EventsPerRequest / Seconds;

        public double Percentile(double p) =>
            SortedLatenciesMs.Length == 0 ? 0 : SortedLatenciesMs[Math.Min(SortedLatenciesMs.Length - 1, (int)(p * SortedLatenciesMs.Length))];

        public Dictionary<string, object> ToLine() => new()
        {
            ["requests"] = Requests,
            ["seconds"] = Math.Round(Seconds, 2),
            ["rps"] = Math.Round(Rps),
            ["eps"] = Math.Round(Eps),
            ["events_per_request"] = EventsPerRequest,
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
        if (options.Bearer is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.Bearer);
        }

        var body = options.Batch > 0 ? MakeBatch(options.BodyBytes, options.Batch) : options.Publish ? MakePublished(options.BodyBytes) : MakeBody(options.BodyBytes);

        // Warm-up under full load: tiered JIT/PGO, the connection pool and (for Fabric) the grain activation are not what
        // is measured. Fabric needed about 10 s of load to reach steady state here, hence the 15 s default.
        await RunWorkersAsync(http, options with { Duration = options.Warmup }, body, record: null);

        var latencies = new List<double>[options.Concurrency];
        var clock = Stopwatch.StartNew();
        var errors = await RunWorkersAsync(http, options, body, latencies);
        var seconds = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new Result(all.Length, seconds, errors, all, Math.Max(options.Batch, 1));
    }

    private static async Task<long> RunWorkersAsync(HttpClient http, Options options, byte[] body, List<double>[]? record)
    {
        long errors = 0;
        var signer = options.SignSecret is { } secret ? new StandardWebhooksSigner(secret) : null;
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
                using var request = new HttpRequestMessage(HttpMethod.Post, options.Url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                if (signer is not null)
                {
                    signer.Sign(request, body, w);
                }

                using var response = await http.SendAsync(request);
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

    /// <summary>A publish-API event of about the requested size.</summary>
    private static byte[] MakePublished(int bytes) =>
        Encoding.UTF8.GetBytes("{\"type\":\"payment_intent.succeeded\",\"data\":" + Encoding.UTF8.GetString(MakeBody(Math.Max(64, bytes - 48))) + "}");

    /// <summary>A publish-API batch of <paramref name="count"/> events of about <paramref name="bytes"/> each.</summary>
    private static byte[] MakeBatch(int bytes, int count)
    {
        var one = Encoding.UTF8.GetString(MakePublished(bytes));
        return Encoding.UTF8.GetBytes("{\"events\":[" + string.Join(',', Enumerable.Repeat(one, count)) + "]}");
    }

    /// <summary>A Stripe-like event padded to the requested size.</summary>
    private static byte[] MakeBody(int bytes)
    {
        const string head = "{\"id\":\"evt_1Nbench\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi_1\",\"amount\":4200,\"currency\":\"usd\",\"customer\":\"cus_bench\"}},\"pad\":\"";
        var pad = Math.Max(0, bytes - head.Length - 2);
        return Encoding.UTF8.GetBytes(head + new string('x', pad) + "\"}");
    }
}
