using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace Fabric.Gateway.Tests;

/// <summary>
/// One credential holding hundreds of presence sockets in 128 watched topics of its own: the customer's webhooks go on being
/// answered while they connect. The latency is written to the test output, never asserted (bench/ measures speed).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class PresenceCrowdTests(GatewayFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Webhooks_are_answered_while_300_sockets_of_one_sub_join_128_watched_topics()
    {
        var customer = await SessionCustomer.CreateAsync(fixture.Http);
        var token = await customer.TokenAsync("crowd");

        var answered = new ConcurrentBag<(HttpStatusCode Status, double Ms)>();
        using var stop = new CancellationTokenSource();
        var posting = Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await fixture.PostWebhookAsync(customer.Id, $$"""{"n":{{n}}}""");
                answered.Add((response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
            }
        });

        var sockets = new ConcurrentBag<FabricSocket>();
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, 300), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            {
                // Each socket its own rooms: the sub is in all of them, and each is watched by one socket.
                string[] topics = [.. Enumerable.Range(0, 128).Select(j => $"room.{i}.{j}")];
                var socket = await FabricSocket.ConnectAsync(fixture.BaseAddress, customer.Id, credential: token, inQuery: true);
                sockets.Add(socket);
                await socket.SendAsync(new { op = "subscribe", topics, presence = true });
                await socket.ReceiveOpAsync("subscribed");
            });

            var last = sockets.First();
            await last.SendAsync(new { op = "presence", topic = "room.299.127", @ref = "q" });
            var presence = await last.ReceiveOpAsync("presence");
            Assert.Equal(["crowd"], presence.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("sub").GetString()));
        }
        finally
        {
            await stop.CancelAsync();
            await posting;
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }

        Assert.NotEmpty(answered);
        Assert.All(answered, a => Assert.Equal(HttpStatusCode.Accepted, a.Status));
        var ms = answered.Select(a => a.Ms).Order().ToArray();
        output.WriteLine($"{ms.Length} webhooks while 300 sockets joined: p50 {ms[ms.Length / 2]:F1} ms, p99 {ms[(int)(ms.Length * 0.99)]:F1} ms, max {ms[^1]:F1} ms");
    }
}
