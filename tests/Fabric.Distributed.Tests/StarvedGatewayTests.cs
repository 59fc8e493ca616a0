using System.Diagnostics;
using System.Net;
using System.Text;
using Xunit.Abstractions;

namespace Fabric.Distributed.Tests;

/// <summary>
/// A gateway short of CPU: pinned to one core while open-loop producers post from the other. Ingest and sockets then
/// compete for that core, and the send loops fall behind. A client that reads promptly must not pay for it: its
/// socket lags, catches up from the log and ends with every accepted event once, in order, never closed as slow.
/// </summary>
[Collection(nameof(DistributedCollection))]
public sealed class StarvedGatewayTests(ITestOutputHelper output)
{
    private const string Customer = "starved";

    [Fact]
    public async Task Prompt_readers_of_a_gateway_pinned_to_one_core_get_every_event_once_in_order_and_are_never_shed()
    {
        await using var gateway = await GatewayProcess.StartAsync(
            cpus: "0",
            $"Fabric:Seed:Customers:{Customer}:Sources:load:Scheme=none",
            "Fabric:RateLimit:PermitsPerSecond=100000000", "Fabric:RateLimit:Burst=100000000",
            // The readers connect with the cluster tests' admin key.
            $"Fabric:Admin:Keys:0={LocalCluster.AdminKey}",
            // A small queue, so that falling behind is certain rather than a matter of this machine's speed.
            "Fabric:Sockets:SendQueueMaxBytes=16384",
            // Retention that covers the whole run: how far behind a starved core lets the sockets fall depends on this
            // machine, and a position retention no longer covers is a resync (4101) by design, not what this tests.
            "Fabric:Customers:RetentionMaxEvents=1000000",
            "Logging:LogLevel:Default=Warning", "Logging:LogLevel:Fabric.Gateway.Sockets=Debug");

        using var stop = new CancellationTokenSource();
        Listener[] readers = [new(Customer, [gateway.Address], 0), new(Customer, [gateway.Address], 0)];
        var reading = readers.Select(r => r.RunAsync(stop.Token)).ToArray();
        await Eventually.True(() => readers.All(r => r.Subscribed));

        var accepted = await PostOpenLoopAsync(gateway.Address, perSecond: 5_000, TimeSpan.FromSeconds(6));
        output.WriteLine($"accepted {accepted} events");
        Assert.True(accepted > 0);

        var behind = Stopwatch.StartNew();
        await Eventually.True(() => readers.All(r => r.LastSeq >= accepted), TimeSpan.FromMinutes(1));
        output.WriteLine($"readers caught up {behind.ElapsedMilliseconds} ms after the last post was answered");
        await stop.CancelAsync();
        await Task.WhenAll(reading);

        var lagged = gateway.Output.Split('\n').Count(line => line.Contains("fell behind", StringComparison.Ordinal));
        output.WriteLine($"lag episodes logged: {lagged}");
        foreach (var reader in readers)
        {
            Assert.True(reader.Reconnects == 0, $"a reader reconnected: {string.Join("; ", reader.Ends)}");
            Assert.Equal(0, reader.Gaps);
            Assert.Equal(Enumerable.Range(1, (int)accepted).Select(i => (long)i), reader.Events.Select(e => e.Seq));
        }

        Assert.DoesNotContain("slow consumer", gateway.Output, StringComparison.Ordinal);
        Assert.True(lagged > 0, "no socket fell behind: the test proves nothing about lagging");
    }

    /// <summary>
    /// Posts at a fixed rate whatever the answers' speed (up to 512 in flight, beyond which the producer waits); every
    /// post must be accepted. Returns how many were.
    /// </summary>
    private static async Task<long> PostOpenLoopAsync(Uri gateway, int perSecond, TimeSpan duration)
    {
        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromMinutes(1) };
        using var inFlight = new SemaphoreSlim(512);
        var posts = new List<Task>();
        long accepted = 0;
        var clock = Stopwatch.StartNew();
        for (long sent = 0; clock.Elapsed < duration;)
        {
            for (var due = (long)(clock.Elapsed.TotalSeconds * perSecond); sent < due; sent++)
            {
                await inFlight.WaitAsync();
                var n = sent;
                posts.Add(Task.Run(async () =>
                {
                    try
                    {
                        using var body = new StringContent($"{{\"type\":\"starved.tick\",\"n\":{n}}}", Encoding.UTF8, "application/json");
                        using var response = await http.PostAsync($"/v1/webhooks/{Customer}/load", body);
                        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                        Interlocked.Increment(ref accepted);
                    }
                    finally
                    {
                        inFlight.Release();
                    }
                }));
            }

            await Task.Delay(5);
        }

        await Task.WhenAll(posts);
        return accepted;
    }
}
