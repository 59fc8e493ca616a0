using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fabric.Bench.Load;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Fabric.Bench.Outbound;

/// <summary>
/// Outbound webhooks: <c>endpoints</c> endpoints of one customer, each a path of a Kestrel receiver in this process,
/// and events posted at a fixed rate to the customer's unsigned source. Every event goes to every endpoint; latency is
/// the receiver's time of each delivery minus the stamp the event was posted with (ingest → grain → endpoint grain →
/// signed POST → receiver), deliveries/s over the measured window.
/// </summary>
internal static class OutboundScenario
{
    public static async Task<Dictionary<string, object>> RunAsync(Args args)
    {
        var gateway = new Uri(args.Require("base"));
        var count = args.Int("endpoints", 10);
        var rate = args.Double("rate", 500);
        var bytes = args.Int("body-bytes", 512);
        var customer = args.Get("customer", "bench");

        var latencies = new List<float>();
        var recording = false;
        long delivered = 0;
        long lastAt = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        await using var receiver = builder.Build();
        receiver.MapPost("/{endpoint}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var now = Stopwatch.GetTimestamp();
            lock (latencies)
            {
                Payload.CountStamps(body.GetBuffer().AsSpan(0, (int)body.Length), now, recording ? latencies : null);
                if (recording)
                {
                    delivered++;
                    lastAt = now;
                }
            }

            context.Response.StatusCode = 204;
        });
        await receiver.StartAsync();
        var receiverBase = new Uri(receiver.Urls.First());

        using var admin = new HttpClient { BaseAddress = gateway };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", args.Require("admin-key"));
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var created = await admin.PostAsJsonAsync($"/v1/admin/customers/{customer}/endpoints", new { url = new Uri(receiverBase, $"e{i}").ToString() });
            created.EnsureSuccessStatusCode();
            ids.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }

        using var poster = new Poster(new Uri(gateway, $"/v1/webhooks/{customer}/{args.Get("source", "load")}"), bytes, 64);
        await poster.AtRateAsync(rate, args.Seconds("warmup", 5), 256);
        await Task.Delay(2000);

        lock (latencies)
        {
            recording = true;
        }

        var sentBefore = poster.Sent;
        var started = Stopwatch.GetTimestamp();
        var duration = args.Seconds("seconds", 10);
        var skipped = await poster.AtRateAsync(rate, duration, 256);
        var sent = poster.Sent - sentBefore;
        var expected = sent * count;
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 30;
        while (Interlocked.Read(ref delivered) < expected && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(50);
        }

        float[] sorted;
        long got;
        long last;
        lock (latencies)
        {
            sorted = [.. latencies.Order()];
            got = delivered;
            last = lastAt;
        }

        foreach (var id in ids)
        {
            await admin.DeleteAsync($"/v1/admin/customers/{customer}/endpoints/{id}");
        }

        var stats = Stats.From(sorted);
        var seconds = Stopwatch.GetElapsedTime(started, Math.Max(last, started + 1)).TotalSeconds;
        return new()
        {
            ["endpoints"] = count,
            ["rate"] = rate,
            ["achieved_rate"] = Math.Round(sent / duration.TotalSeconds),
            ["skipped"] = skipped,
            ["delivered"] = got,
            ["expected"] = expected,
            ["complete"] = got >= expected,
            ["deliveries_per_s"] = Math.Round(got / seconds),
            ["p50_ms"] = Math.Round(stats.P50, 3),
            ["p90_ms"] = Math.Round(stats.P90, 3),
            ["p99_ms"] = Math.Round(stats.P99, 3),
            ["max_ms"] = Math.Round(stats.Max, 3),
            ["post_errors"] = poster.Errors,
        };
    }
}
