using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace Fabric.Distributed.Tests;

/// <summary>
/// <c>/readyz</c> on real processes: a gateway is ready while it reaches the cluster and Redis, turns unready when
/// either is gone, and ready again when they return; <c>/healthz</c> says alive throughout. Silos serve the probes,
/// <c>/metrics</c> and the dashboard (behind the admin key) on their HTTP port.
/// </summary>
[Collection(nameof(DistributedCollection))]
public sealed class ReadinessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Readyz_turns_unhealthy_when_the_cluster_or_redis_is_unreachable_and_healthy_again_when_it_returns()
    {
        // The dashboard is opt-in on distributed silos.
        await using var cluster = await LocalCluster.UpAsync(new() { ["Fabric__Dashboard__Enabled"] = "true" });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        var ready = await ReadAsync(http, cluster.Gateway1);
        Assert.Equal(HttpStatusCode.OK, ready.Status);
        Assert.Equal("Healthy", ready.Report.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal("Healthy", (await ReadAsync(http, cluster.Silo1)).Report.GetProperty("checks").GetProperty("silo").GetProperty("status").GetString());
        Assert.Contains("orleans_", await http.GetStringAsync(new Uri(cluster.Silo1, "/metrics")), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(new Uri(cluster.Silo1, "/dashboard/"))).StatusCode);
        using (var admin = LocalCluster.AdminClient())
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(new Uri(cluster.Silo1, "/dashboard/ClusterStats"))).StatusCode);
        }

        // Both silos gone (stopped, so the restart need not wait out their death declarations; the kill drills cover
        // that): the gateway is alive, not ready.
        var killed = System.Diagnostics.Stopwatch.StartNew();
        await cluster.StopAsync("silo1");
        await cluster.StopAsync("silo2");
        var down = await WaitForAsync(http, cluster.Gateway1, HttpStatusCode.ServiceUnavailable);
        output.WriteLine($"[readyz] unready {killed.Elapsed.TotalSeconds:F1} s after both silos were stopped");
        Assert.Equal("Unhealthy", down.Report.GetProperty("checks").GetProperty("cluster").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(cluster.Gateway1, "/healthz"))).StatusCode);
        output.WriteLine($"[readyz] both silos stopped: {down.Report}");

        // One silo back is a reachable cluster.
        var back = System.Diagnostics.Stopwatch.StartNew();
        await cluster.StartAsync("silo1");
        await WaitForAsync(http, cluster.Gateway1, HttpStatusCode.OK);
        output.WriteLine($"[readyz] ready again {back.Elapsed.TotalSeconds:F1} s after silo1 was started");

        // Redis gone: unready through its own check, and back when it returns.
        var stopped = System.Diagnostics.Stopwatch.StartNew();
        await cluster.StopAsync("redis");
        var noRedis = await WaitForAsync(http, cluster.Gateway1, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Unhealthy", noRedis.Report.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
        output.WriteLine($"[readyz] redis stopped: {noRedis.Report}");
        await cluster.StartAsync("redis");
        await WaitForAsync(http, cluster.Gateway1, HttpStatusCode.OK);
        output.WriteLine($"[readyz] redis out and back in {stopped.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task<(HttpStatusCode Status, JsonElement Report)> WaitForAsync(HttpClient http, Uri target, HttpStatusCode status)
    {
        var deadline = DateTime.UtcNow + Within;
        while (true)
        {
            var read = await ReadAsync(http, target);
            if (read.Status == status)
            {
                return read;
            }

            Assert.True(DateTime.UtcNow < deadline, $"/readyz of {target} did not turn {status}: {read.Report}");
            await Task.Delay(500);
        }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Report)> ReadAsync(HttpClient http, Uri target)
    {
        using var response = await http.GetAsync(new Uri(target, "/readyz"));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}
