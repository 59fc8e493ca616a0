using System.Diagnostics;
using Xunit.Abstractions;

namespace Fabric.Distributed.Tests;

/// <summary>
/// Load plus observers: a producer posting to the gateways, and for each customer a listening socket on each gateway
/// (or all on one, when <c>preferred</c> is given). <see cref="FinishAsync"/> stops the load and holds every socket to
/// what the producer had acknowledged.
/// </summary>
public sealed class Drill : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopProducer = new();
    private readonly CancellationTokenSource _stopListeners = new();
    private Task _producing = Task.CompletedTask;
    private Task _listening = Task.CompletedTask;

    private Drill(Producer producer, List<Listener> listeners)
    {
        Producer = producer;
        Listeners = listeners;
    }

    public Producer Producer { get; }

    public List<Listener> Listeners { get; }

    /// <summary>
    /// Registers the customers, puts a listener per customer on each gateway (or two on <paramref name="preferred"/>),
    /// and starts posting. With <paramref name="chaos"/> (a seed), every listener drops its socket at random and
    /// reconnects to a random gateway.
    /// </summary>
    public static async Task<Drill> StartAsync(LocalCluster cluster, string[] customers, int? preferred, Uri[]? gateways = null, int? chaos = null)
    {
        gateways ??= cluster.Gateways;
        await cluster.RegisterAsync(customers, Producer.Source);
        var listeners = customers.SelectMany(c => preferred is { } p
            ? [new Listener(c, gateways, p), new Listener(c, gateways, p)]
            : Enumerable.Range(0, gateways.Length).Select(g => new Listener(c, gateways, g, chaos is { } seed ? new Random(seed + g) : null))).ToList();
        var drill = new Drill(new Producer(gateways, customers, TimeSpan.FromMilliseconds(5)), listeners);
        drill._listening = Task.WhenAll(listeners.Select(l => l.RunAsync(drill._stopListeners.Token)));
        var deadline = Stopwatch.StartNew();
        while (!listeners.All(l => l.Subscribed))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "sockets did not subscribe in time");
            await Task.Delay(50);
        }

        drill._producing = drill.Producer.RunAsync(4, drill._stopProducer.Token);
        return drill;
    }

    public async Task FinishAsync(ITestOutputHelper output)
    {
        await _stopProducer.CancelAsync();
        await _producing;

        var deadline = Stopwatch.StartNew();
        while (!Listeners.All(l => l.LastSeq >= Producer.MaxAckedSeq(l.Customer)))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90),
                "sockets did not catch up: " + string.Join(", ", Listeners.Select(l => $"{l.Customer} {l.LastSeq}/{Producer.MaxAckedSeq(l.Customer)}")));
            await Task.Delay(100);
        }

        await _stopListeners.CancelAsync();
        await _listening;

        output.WriteLine($"{Producer.Acked.Count} events acknowledged ({Producer.Retries} retries); {Listeners.Count} sockets, {Listeners.Sum(l => l.Reconnects)} reconnects");
        foreach (var listener in Listeners)
        {
            var events = listener.Events;
            var seqs = events.Select(e => e.Seq).ToList();
            Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);   // in order, once, no gap
            Assert.Equal(0, listener.Gaps);
            var keys = events.ToDictionary(e => e.Seq, e => e.Key);
            foreach (var ((customer, key), (seq, _, _)) in Producer.Acked.Where(a => a.Key.Customer == listener.Customer))
            {
                Assert.True(keys.TryGetValue(seq, out var received) && received == key, $"{customer}: acknowledged {key} (seq {seq}) never reached a socket");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopProducer.CancelAsync();
        await _stopListeners.CancelAsync();
        try
        {
            await Task.WhenAll(_producing, _listening);
        }
        catch (Exception ex) when (ex is OperationCanceledException)
        {
            // Stopped.
        }

        Producer.Dispose();
        _stopProducer.Dispose();
        _stopListeners.Dispose();
    }
}
