using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Fabric.Bench.Load;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Fabric.Bench.Soak;

/// <summary>
/// The soak: steady ingest for a long while against a running fabric, and everything operators worry about meanwhile.
/// Signed webhooks (Standard Webhooks) at <c>--rate</c> into the first gateway and socket publishes at
/// <c>--publish-rate</c>; a witness socket on the last gateway that must see every seq once, in order; a churning
/// fleet of sockets that connect, resume with <c>since</c> and disconnect; one outbound endpoint (a Kestrel receiver
/// in this process) that must get every event. Every <c>--sample</c> seconds: each process's RSS (/proc) and GC heap
/// (its <c>/metrics</c>). At the end: what was delivered, and whether memory stayed flat over the second half.
/// </summary>
internal static class SoakScenario
{
    // A process that died or did not answer a scrape leaves NaN in its sample, which JSON has no number for.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static async Task<Dictionary<string, object>> RunAsync(Args args)
    {
        var gateways = args.Require("gateways").Split(',').Select(u => new Uri(u)).ToArray();
        var processes = args.Require("processes").Split(',').Select(Process.Parse).ToArray();
        var duration = args.Seconds("seconds", 600);
        var sampleEvery = args.Seconds("sample", 10);
        var rate = args.Double("rate", 100);
        var publishRate = args.Double("publish-rate", 20);
        var churners = args.Int("sockets", 50);
        var outDir = args.Require("out");
        var secret = "whsec_" + Convert.ToBase64String(Encoding.UTF8.GetBytes("soak-signing-secret-not-a-secret"));
        var customer = "soak-" + Guid.NewGuid().ToString("N")[..8];

        using var admin = new HttpClient { BaseAddress = gateways[0] };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", args.Require("admin-key"));
        (await admin.PutAsync($"/v1/admin/customers/{customer}", null)).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"/v1/admin/customers/{customer}/sources/signed", new { scheme = "standard", secrets = new[] { secret } })).EnsureSuccessStatusCode();

        // The endpoint: every event id it is handed (at-least-once, so a set).
        var endpointGot = new ConcurrentDictionary<string, byte>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        await using var receiver = builder.Build();
        receiver.MapPost("/soak", (HttpContext context) =>
        {
            endpointGot.TryAdd(context.Request.Headers["webhook-id"].ToString(), 0);
            return Results.NoContent();
        });
        await receiver.StartAsync();
        (await admin.PostAsJsonAsync($"/v1/admin/customers/{customer}/endpoints", new { url = new Uri(new Uri(receiver.Urls.First()), "soak").ToString() })).EnsureSuccessStatusCode();

        var acked = new ConcurrentDictionary<string, long>();
        var stats = new Counters();
        using var stop = new CancellationTokenSource();
        var sockets = new SocketClient(gateways, args.Require("admin-key"), customer, stats);

        // The witness connects first and stays: it must see seq 1, 2, 3, … to the end, whatever else happens.
        var witness = new Witness();
        var witnessTask = sockets.WitnessAsync(witness, stop.Token);
        await witness.Subscribed.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var samples = new List<Sample>();
        var started = Stopwatch.GetTimestamp();
        var load = Task.WhenAll(
            PostWebhooksAsync(gateways[0], customer, secret, rate, acked, stats, stop.Token),
            sockets.PublishAsync(publishRate, acked, stop.Token),
            Task.WhenAll(Enumerable.Range(0, churners).Select(i => sockets.ChurnAsync(i, stop.Token))));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (Stopwatch.GetElapsedTime(started) < duration)
        {
            await Task.Delay(sampleEvery);
            samples.AddRange(await SampleAsync(http, processes, Stopwatch.GetElapsedTime(started).TotalSeconds, acked.Count));
        }

        stop.Cancel();
        await load;
        var sent = acked.Count;
        // Delivery settles: the witness and the endpoint catch up with what was acknowledged.
        var settle = Stopwatch.StartNew();
        while ((witness.Count < sent || !acked.Keys.All(endpointGot.ContainsKey)) && settle.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(250);
        }

        witness.Done.Cancel();
        await witnessTask;
        var missingAtEndpoint = acked.Keys.Count(id => !endpointGot.ContainsKey(id));
        var memory = processes.Select(p => Flatness(p.Name, samples.Where(s => s.Process == p.Name).ToList())).ToList();
        var complete = witness.Count == sent && witness.Gaps == 0 && missingAtEndpoint == 0 && stats.ResumeGaps == 0;
        var line = new Dictionary<string, object>
        {
            ["customer"] = customer,
            ["seconds"] = Math.Round(duration.TotalSeconds),
            ["events"] = sent,
            ["webhooks"] = stats.Webhooks,
            ["socket_publishes"] = stats.Publishes,
            ["post_errors"] = stats.PostErrors,
            ["witness_events"] = witness.Count,
            ["witness_gaps"] = witness.Gaps,
            ["witness_reconnects"] = witness.Reconnects,
            ["endpoint_events"] = endpointGot.Count,
            ["endpoint_missing"] = missingAtEndpoint,
            ["socket_connects"] = stats.Connects,
            ["socket_resumes"] = stats.Resumes,
            ["resume_gaps"] = stats.ResumeGaps,
            ["socket_events"] = stats.SocketEvents,
            ["complete"] = complete,
            ["memory"] = memory,
        };
        Directory.CreateDirectory(outDir);
        var name = args.Get("name", "soak");
        await File.WriteAllLinesAsync(Path.Combine(outDir, name + "-samples.jsonl"), samples.Select(s => JsonSerializer.Serialize(s, Json)));
        SoakReport.Write(outDir, name, line, samples, processes.Select(p => p.Name).ToArray());
        return line;
    }

    /// <summary>Signed webhooks at a steady rate; each acknowledged id is remembered with its seq.</summary>
    private static async Task PostWebhooksAsync(Uri gateway, string customer, string secret, double rate, ConcurrentDictionary<string, long> acked, Counters stats, CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };
        var signer = new StandardWebhooksSigner(secret);
        var interval = TimeSpan.FromSeconds(1 / rate);
        var next = Stopwatch.GetTimestamp();
        var inFlight = new List<Task>();
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, CancellationToken.None);
            }

            inFlight.Add(PostOneAsync(n));
            inFlight.RemoveAll(t => t.IsCompleted);
        }

        await Task.WhenAll(inFlight);

        async Task PostOneAsync(int n)
        {
            var body = Encoding.UTF8.GetBytes($$"""{"type":"soak.webhook","n":{{n}},"pad":"{{new string('x', 200)}}"}""");
            // A producer retries until it has an answer: the same webhook-id, so a retry is a duplicate, not a new event.
            using var first = new HttpRequestMessage();
            signer.Sign(first, body, 0);
            var id = first.Headers.GetValues("webhook-id").First();
            for (var attempt = 0; attempt < 20; attempt++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/{customer}/signed") { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new("application/json");
                foreach (var h in first.Headers)
                {
                    request.Headers.TryAddWithoutValidation(h.Key, h.Value);
                }

                try
                {
                    using var response = await http.SendAsync(request, CancellationToken.None);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        var ack = await response.Content.ReadFromJsonAsync<JsonElement>(CancellationToken.None);
                        acked.TryAdd(ack.GetProperty("id").GetString()!, ack.GetProperty("seq").GetInt64());
                        Interlocked.Increment(ref stats.Webhooks);
                        return;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                }

                Interlocked.Increment(ref stats.PostErrors);
                await Task.Delay(500, CancellationToken.None);
            }
        }
    }

    private static async Task<List<Sample>> SampleAsync(HttpClient http, Process[] processes, double at, int events)
    {
        var samples = new List<Sample>();
        foreach (var p in processes)
        {
            double gcHeap = 0, committed = 0, sockets = 0;
            try
            {
                foreach (var line in (await http.GetStringAsync(p.Metrics)).Split('\n'))
                {
                    if (line.StartsWith("dotnet_gc_last_collection_heap_size_bytes", StringComparison.Ordinal))
                    {
                        gcHeap += Value(line);
                    }
                    else if (line.StartsWith("dotnet_gc_last_collection_memory_committed_size_bytes", StringComparison.Ordinal))
                    {
                        committed += Value(line);
                    }
                    else if (line.StartsWith("fabric_gateway_sockets", StringComparison.Ordinal))
                    {
                        sockets += Value(line);
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                gcHeap = double.NaN;
                committed = double.NaN;
            }

            var rss = Rss(p.Pid);
            samples.Add(new Sample(p.Name, Math.Round(at, 1), rss.Total / 1e6, gcHeap / 1e6, sockets, events, rss.Anon / 1e6, rss.Shmem / 1e6, committed / 1e6));
        }

        return samples;

        static double Value(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The process's resident memory from /proc: all of it, the anonymous part (GC heap and native allocations) and the
    /// shared-memory part (.NET's double-mapped executable memory: JIT-compiled code and stubs).
    /// </summary>
    private static (double Total, double Anon, double Shmem) Rss(int pid)
    {
        if (!File.Exists($"/proc/{pid}/status"))
        {
            // The process died: the sample says so (NaN), and delivery figures show what it cost.
            return (double.NaN, double.NaN, double.NaN);
        }

        double total = double.NaN, anon = double.NaN, shmem = double.NaN;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                total = Kb(line);
            }
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                anon = Kb(line);
            }
            else if (line.StartsWith("RssShmem:", StringComparison.Ordinal))
            {
                shmem = Kb(line);
            }
        }

        return (total, anon, shmem);

        static double Kb(string line) => double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>
    /// Memory over the second half of the run: the least-squares slope of RSS and GC heap (MB per minute) and what that
    /// slope adds up to over the half, against the noise (the residuals' standard deviation). Flat: the growth over the
    /// half is within twice the noise, or under 5 MB.
    /// </summary>
    private static Dictionary<string, object> Flatness(string process, List<Sample> samples)
    {
        var half = samples.Count == 0 ? [] : samples.Where(s => s.At >= samples[^1].At / 2).ToList();
        var (rssSlope, rssNoise) = Slope(half.Select(s => (s.At, s.RssMb)).ToList());
        var (heapSlope, heapNoise) = Scraped(s => s.GcHeapMb);
        // Not in the verdict: they say which part of RSS a slope comes from.
        var (anonSlope, _) = Scraped(s => s.RssAnonMb);
        var (shmemSlope, _) = Scraped(s => s.RssShmemMb);
        var (committedSlope, _) = Scraped(s => s.GcCommittedMb);
        var minutes = half.Count > 1 ? (half[^1].At - half[0].At) / 60 : 0;
        // Growth only: memory the GC hands back (a falling RSS) is no leak.
        bool Flat(double slope, double noise) => slope * minutes <= Math.Max(5, 2 * noise);
        // Over the samples that have the figure (a scrape that failed left NaN).
        (double SlopePerMinute, double Noise) Scraped(Func<Sample, double> figure) =>
            Slope(half.Select(s => (s.At, figure(s))).Where(p => !double.IsNaN(p.Item2)).ToList());
        return new()
        {
            ["process"] = process,
            ["rss_first_mb"] = samples.Count > 0 ? Math.Round(samples[0].RssMb, 1) : 0,
            ["rss_last_mb"] = samples.Count > 0 ? Math.Round(samples[^1].RssMb, 1) : 0,
            ["rss_slope_mb_per_min"] = Math.Round(rssSlope, 3),
            ["rss_noise_mb"] = Math.Round(rssNoise, 2),
            ["gc_heap_slope_mb_per_min"] = Math.Round(heapSlope, 3),
            ["gc_heap_noise_mb"] = Math.Round(heapNoise, 2),
            ["rss_anon_slope_mb_per_min"] = Math.Round(anonSlope, 3),
            ["rss_shmem_slope_mb_per_min"] = Math.Round(shmemSlope, 3),
            ["gc_committed_slope_mb_per_min"] = Math.Round(committedSlope, 3),
            ["flat"] = Flat(rssSlope, rssNoise) && Flat(heapSlope, heapNoise),
        };
    }

    private static (double SlopePerMinute, double Noise) Slope(List<(double At, double Y)> points)
    {
        if (points.Count < 3)
        {
            return (0, 0);
        }

        var mx = points.Average(p => p.At);
        var my = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.At - mx) * (p.At - mx));
        var slope = sxx == 0 ? 0 : points.Sum(p => (p.At - mx) * (p.Y - my)) / sxx;
        var noise = Math.Sqrt(points.Sum(p => Math.Pow(p.Y - (my + (slope * (p.At - mx))), 2)) / (points.Count - 2));
        return (slope * 60, noise);
    }

    internal sealed record Process(string Name, int Pid, Uri Metrics)
    {
        /// <summary><c>name=pid=metricsUrl</c>.</summary>
        public static Process Parse(string spec)
        {
            var parts = spec.Split('=', 3);
            return new Process(parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), new Uri(parts[2]));
        }
    }

    internal sealed record Sample(string Process, double At, double RssMb, double GcHeapMb, double Sockets, int Events,
        double RssAnonMb, double RssShmemMb, double GcCommittedMb);

    internal sealed class Counters
    {
        public long Webhooks;
        public long Publishes;
        public long PostErrors;
        public long Connects;
        public long Resumes;
        public long ResumeGaps;
        public long SocketEvents;
    }

    internal sealed class Witness
    {
        public TaskCompletionSource Subscribed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenSource Done { get; } = new();

        public long Last;
        public int Count;
        public int Gaps;
        public int Reconnects;
    }
}
