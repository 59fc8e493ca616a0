using Fabric.Contracts;
using Fabric.Grains.Customers;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Utilities;

namespace Fabric.Grains.Tests.Parts;

/// <summary>Pushes without a cluster: many events kept in one turn share one push, cut in chunks, in seq order.</summary>
public sealed class PushFanoutTests
{
    private readonly Turns _turns = new();
    private readonly LogEpoch _epoch = LogEpoch.New(0);
    private readonly Gateway _gateway = new();
    private readonly List<long> _pushed = [];

    private PushFanout Fanout(int batchMax = 512, long batchMaxBytes = 1 << 20)
    {
        var gateways = new ObserverManager<string, IGatewayObserver>(TimeSpan.FromMinutes(1), NullLogger.Instance);
        gateways.Subscribe("gw-1", _gateway);
        var options = new CustomerOptions { PushBatchMax = batchMax, PushBatchMaxBytes = batchMaxBytes };
        return new PushFanout("c1", options, gateways, NullLogger.Instance, () => _epoch, () => null, _pushed.Add);
    }

    private static EventEnvelope Event(long seq, int bytes = 2) =>
        new($"evt_{seq}", seq, "c1", "test", "t", DateTimeOffset.UtcNow, "application/json", new byte[bytes], null, null, null, null, null);

    [Fact]
    public async Task Events_kept_in_one_turn_go_out_as_one_push_after_it()
    {
        var fanout = Fanout();
        await _turns.Run(() =>
        {
            for (var seq = 1; seq <= 10; seq++)
            {
                fanout.Enqueue(Event(seq));
            }

            Assert.Empty(_gateway.Batches);   // not within the turn that kept them
        });

        await Eventually.True(() => _pushed.Count == 1);
        Assert.Equal([Enumerable.Range(1, 10).Select(i => (long)i)], _gateway.Batches.Select(b => b.Events.Select(e => e.Seq)));
        Assert.Equal([10L], _pushed);
    }

    [Fact]
    public async Task A_push_is_cut_in_chunks_by_count_and_by_bytes_in_seq_order()
    {
        var fanout = Fanout(batchMax: 4, batchMaxBytes: 1_100);
        await _turns.Run(() =>
        {
            for (var seq = 1; seq <= 6; seq++)
            {
                fanout.Enqueue(Event(seq));
            }

            fanout.Enqueue(Event(7, bytes: 5_000));   // over the byte bound alone: a chunk of its own
            fanout.Enqueue(Event(8));
        });

        await Eventually.True(() => _pushed.Count == 1);
        Assert.Equal([[1L, 2, 3, 4], [5, 6], [7], [8]], _gateway.Batches.Select(b => b.Events.Select(e => e.Seq).ToArray()));
    }

    /// <summary>A gateway that records what it is pushed.</summary>
    private sealed class Gateway : IGatewayObserver
    {
        public List<EventBatch> Batches { get; } = [];

        public Task OnEvents(EventBatch batch)
        {
            lock (Batches)
            {
                Batches.Add(batch);
            }

            return Task.CompletedTask;
        }

        public Task OnPresence(PresenceChange change) => Task.CompletedTask;

        public Task OnKick(string customer, string session) => Task.CompletedTask;
    }
}
