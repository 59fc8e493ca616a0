using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace Fabric.Distributed.Tests;

/// <summary>
/// Distributed Fabric as real processes (redis-server, 2 silos, 2 gateways from <c>scripts/cluster</c>), under load,
/// while parts of it die. The promise under test: every acknowledged event reaches every socket once, in order, with
/// no resume the server could not cover. Each test runs its own cluster; they run one after another.
/// </summary>
[Collection(nameof(DistributedCollection))]
public sealed class DistributedTests(ITestOutputHelper output)
{
    private static readonly string[] Customers = ["acme", "globex", "initech", "umbrella"];

    [Fact]
    public async Task Every_acknowledged_event_reaches_sockets_on_both_gateways_once_and_in_order()
    {
        await using var cluster = await LocalCluster.UpAsync();
        await using var drill = await Drill.StartAsync(cluster, Customers, preferred: null);
        await Task.Delay(TimeSpan.FromSeconds(4));
        await drill.FinishAsync(output);
    }

    [Fact]
    public async Task A_gateway_serving_webhooks_and_sockets_loads_no_grain_code_nor_Wasmtime()
    {
        await using var cluster = await LocalCluster.UpAsync();
        await using var drill = await Drill.StartAsync(cluster, Customers, preferred: null);
        await drill.FinishAsync(output);

        string[] grainStack = ["Fabric.Grains.dll", "Fabric.Grains.Redis.dll", "Fabric.Outbound.dll", "Fabric.Wasm.dll", "Wasmtime.Dotnet.dll", "libwasmtime.so"];
        foreach (var gateway in new[] { "gateway1", "gateway2" })
        {
            var mapped = cluster.MappedFiles(gateway);
            Assert.Contains("Fabric.Gateway.dll", mapped);
            Assert.Empty(mapped.Intersect(grainStack));
        }

        Assert.Contains("Fabric.Grains.dll", cluster.MappedFiles("silo1"));
    }

    [Fact]
    public async Task Killing_each_silo_in_turn_mid_load_loses_no_acknowledged_event()
    {
        // Each silo in turn, so that whichever silo the customers' grains live on is killed under them at least once:
        // after silo1 dies its grains move to silo2; silo1 comes back empty; then silo2 dies with all of them.
        await using var cluster = await LocalCluster.UpAsync();
        await using var drill = await Drill.StartAsync(cluster, Customers, preferred: null);
        await Task.Delay(TimeSpan.FromSeconds(2));

        var firstKill = Stopwatch.GetTimestamp();
        await cluster.KillAsync("silo1");
        await Task.Delay(TimeSpan.FromSeconds(6));
        await cluster.StartAsync("silo1");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var secondKill = Stopwatch.GetTimestamp();
        await cluster.KillAsync("silo2");
        await Task.Delay(TimeSpan.FromSeconds(8));
        await drill.FinishAsync(output);

        Report("silo1 kill -9", ResumeFigures(drill, firstKill));
        Report("silo2 kill -9", ResumeFigures(drill, secondKill) + $"; failed attempts over both kills: {drill.Producer.Failures}");
    }

    /// <summary>
    /// Per customer: from the kill until a socket received the first event that was sent after the kill (and so
    /// appended entirely after it) — for a customer whose grain lived on the killed silo, that is failure detection,
    /// reactivation on the other silo, the log read and the first push.
    /// </summary>
    private static string ResumeFigures(Drill drill, long killedAt)
    {
        var seconds = Customers.Select(c =>
        {
            var sentAfter = drill.Producer.Acked.Where(a => a.Key.Customer == c && a.Value.SentAt > killedAt).Select(a => a.Value.Seq).ToHashSet();
            return drill.Listeners.Where(l => l.Customer == c).SelectMany(l => l.Events).Where(e => sentAfter.Contains(e.Seq))
                .Select(e => Stopwatch.GetElapsedTime(killedAt, e.At).TotalSeconds).DefaultIfEmpty(double.NaN).Min();
        }).ToArray();

        // The longest silence any socket saw within 15 s of the kill: under steady load, that is the outage as a
        // socket experiences it (events keep arriving every few milliseconds otherwise).
        var windowEnd = killedAt + (long)(15 * Stopwatch.Frequency);
        var pauses = Customers.Select(c => drill.Listeners.Where(l => l.Customer == c).Select(l =>
        {
            var times = l.Events.Select(e => e.At).Where(t => t <= windowEnd).ToList();
            var longest = 0.0;
            for (var i = 1; i < times.Count; i++)
            {
                if (times[i] > killedAt)
                {
                    longest = Math.Max(longest, Stopwatch.GetElapsedTime(times[i - 1], times[i]).TotalSeconds);
                }
            }

            return longest;
        }).Max()).ToArray();
        var acked = Customers.Select(c => drill.Producer.Acked.Where(a => a.Key.Customer == c && a.Value.SentAt > killedAt)
            .Select(a => Stopwatch.GetElapsedTime(killedAt, a.Value.AckedAt).TotalSeconds).DefaultIfEmpty(double.NaN).Min()).ToArray();
        return $"first acknowledgement of an event sent after the kill {string.Join(", ", acked.Select(F))} s, " +
            $"and its delivery {string.Join(", ", seconds.Select(F))} s per customer; " +
            $"longest pause in delivery {string.Join(", ", pauses.Select(F))} s per customer (max {F(pauses.Max())} s)";
    }

    private static string F(double seconds) => seconds.ToString("F2", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_killed_gateways_clients_resume_on_the_other_gateway_with_nothing_missing()
    {
        await using var cluster = await LocalCluster.UpAsync();
        await using var drill = await Drill.StartAsync(cluster, Customers, preferred: 0);
        await Task.Delay(TimeSpan.FromSeconds(2));

        var killedAt = Stopwatch.GetTimestamp();
        await cluster.KillAsync("gateway1");
        await Task.Delay(TimeSpan.FromSeconds(6));
        await drill.FinishAsync(output);

        Assert.All(drill.Listeners, l => Assert.True(l.Reconnects > 0, "every socket was on the killed gateway"));
        // A socket is back when the other gateway confirmed its resumed subscription.
        var resumed = drill.Listeners.Select(l => l.SubscribedAt.Where(t => t > killedAt).Select(t => Stopwatch.GetElapsedTime(killedAt, t).TotalSeconds).DefaultIfEmpty(double.NaN).Min()).ToArray();
        Report("gateway kill -9", $"every socket resumed on the other gateway within {resumed.Max():F2} s (median {resumed.Order().ElementAt(resumed.Length / 2):F2} s); failed attempts: {drill.Producer.Failures}");
    }

    [Fact]
    public async Task A_Redis_restart_keeps_every_acknowledged_event_and_the_fabric_recovers_by_itself()
    {
        await using var cluster = await LocalCluster.UpAsync();
        await using var drill = await Drill.StartAsync(cluster, Customers, preferred: null);
        await Task.Delay(TimeSpan.FromSeconds(2));

        var stoppedAt = Stopwatch.GetTimestamp();
        await cluster.StopAsync("redis");
        await Task.Delay(TimeSpan.FromSeconds(2));
        await cluster.StartAsync("redis");
        var restartedAt = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(6));
        await drill.FinishAsync(output);

        // Every acknowledged event is in the log: history, read back through the API, has each at its seq.
        using var http = LocalCluster.AdminClient();
        foreach (var customer in Customers)
        {
            var stored = new Dictionary<long, string?>();
            for (long after = 0; ;)
            {
                using var page = JsonDocument.Parse(await http.GetStringAsync(new Uri(cluster.Gateway2, $"/v1/customers/{customer}/events?after={after}&limit=1000")));
                var events = page.RootElement.GetProperty("events").EnumerateArray().ToList();
                foreach (var e in events)
                {
                    stored[e.GetProperty("seq").GetInt64()] = e.TryGetProperty("key", out var k) ? k.GetString() : null;
                }

                if (events.Count == 0)
                {
                    break;
                }

                after = events[^1].GetProperty("seq").GetInt64();
            }

            foreach (var ((c, key), (seq, _, _)) in drill.Producer.Acked.Where(a => a.Key.Customer == customer))
            {
                Assert.True(stored.TryGetValue(seq, out var storedKey) && storedKey == key, $"{c}: acknowledged {key} as seq {seq} is not in the log");
            }
        }

        var firstAckAfter = drill.Producer.Acked.Values.Where(a => a.AckedAt > restartedAt).Select(a => a.AckedAt).DefaultIfEmpty(0).Min();
        Report("Redis restart", $"Redis down for {Stopwatch.GetElapsedTime(stoppedAt, restartedAt).TotalSeconds:F2} s; first acknowledgement " +
            $"{(firstAckAfter == 0 ? double.NaN : Stopwatch.GetElapsedTime(restartedAt, firstAckAfter).TotalSeconds):F2} s after it was back; failed attempts: {drill.Producer.Failures}");
    }

    [Fact]
    public async Task A_gateway_started_before_any_silo_waits_then_serves()
    {
        await using var cluster = LocalCluster.Create();
        await cluster.StartAsync("redis");
        var gateway = Task.Run(() => cluster.StartAsync("gateway1"));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(gateway.IsCompleted, "the gateway reported healthy with no silo in the cluster");
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) })
        {
            Assert.False(await AnswersAsync(http, cluster.Gateway1), "the gateway served before any silo was up");
        }

        var siloAt = Stopwatch.GetTimestamp();
        await cluster.StartAsync("silo1");
        await gateway;
        Report("gateway before silo", $"gateway healthy {Stopwatch.GetElapsedTime(siloAt).TotalSeconds:F2} s after the silo was");

        await using var drill = await Drill.StartAsync(cluster, ["late"], preferred: 0, gateways: [cluster.Gateway1]);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await drill.FinishAsync(output);
    }

    private static async Task<bool> AnswersAsync(HttpClient http, Uri gateway)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(gateway, "/readyz"));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private void Report(string drill, string figures)
    {
        output.WriteLine($"[recovery] {drill}: {figures}");
        // Also into a file beside the test results, so CI logs and the closing notes can quote the figures.
        File.AppendAllText(Path.Combine(AppContext.BaseDirectory, "recovery.txt"), $"{DateTime.UtcNow:O} {drill}: {figures}{Environment.NewLine}");
        Console.WriteLine($"[recovery] {drill}: {figures}");
    }
}

[CollectionDefinition(nameof(DistributedCollection), DisableParallelization = true)]
public sealed class DistributedCollection;
