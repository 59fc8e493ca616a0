using Fabric.Contracts;
using Fabric.Grains.Log;
using Orleans.TestingHost;

namespace Fabric.Grains.Tests;

/// <summary>
/// Pipelined group commit: a customer's next log write goes out while the one before it is still on its way, in order,
/// and a write that fails takes the one behind it down too. A cluster of its own whose log holds writes until the test
/// lets them go (the real in-memory log underneath, which refuses a write that leaves a gap, as Redis does).
/// </summary>
public sealed class PipelineTests : IAsyncLifetime
{
    private readonly GatedLog _log = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterFixture.StartWithLogAsync(_log, []);

    public async Task DisposeAsync()
    {
        _log.Release();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task The_next_write_goes_out_while_one_is_in_flight_and_every_append_is_kept_once_in_seq_order()
    {
        var customer = Events.NewCustomer();
        var grain = _cluster.Client.GetGrain<ICustomerGrain>(customer);
        _log.Hold();
        var first = grain.Append(Events.Make());
        await Eventually.True(() => _log.InFlight == 1);
        var rest = Enumerable.Range(0, 20).Select(_ => grain.Append(Events.Make())).ToList();
        await Eventually.True(() => _log.InFlight == 2);

        _log.Release();
        var results = await Task.WhenAll([first, .. rest]);

        Assert.Equal(Enumerable.Range(1, 21).Select(i => (long)i), results.Select(r => r.Seq).Order());
        Assert.Equal(Enumerable.Range(1, 21).Select(i => (long)i), (await _log.ReadAsync(customer, 0, 100, long.MaxValue)).Select(e => e.Seq));
        Assert.Equal(2, _log.MaxInFlight);
        Assert.True(_log.Writes[1].Follows, "the second write was not marked as pipelined");
    }

    [Fact]
    public async Task A_failed_write_fails_the_one_behind_it_and_producers_retrying_with_their_keys_get_each_event_kept_once()
    {
        var customer = Events.NewCustomer();
        var grain = _cluster.Client.GetGrain<ICustomerGrain>(customer);
        _log.Hold();
        var first = grain.Append(Events.Make(key: "k0"));
        await Eventually.True(() => _log.InFlight == 1);
        var behind = Enumerable.Range(1, 3).Select(i => grain.Append(Events.Make(key: $"k{i}"))).ToList();
        await Eventually.True(() => _log.InFlight == 2);

        _log.FailNext();
        _log.Release();
        foreach (var append in (Task<AppendResult>[])[first, .. behind])
        {
            await Assert.ThrowsAnyAsync<Exception>(() => append);
        }

        Assert.Equal(0, (await _log.ReadHeadAsync(customer)).LastSeq);

        // Producers retry with the same keys until accepted (the failed activation makes way for a fresh one).
        foreach (var key in new[] { "k0", "k1", "k2", "k3" })
        {
            await Eventually.True(async () =>
            {
                try
                {
                    await grain.Append(Events.Make(key: key));
                    return true;
                }
                catch (LogUnavailableException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(30));
        }

        var kept = await _log.ReadAsync(customer, 0, 100, long.MaxValue);
        Assert.Equal(new long[] { 1, 2, 3, 4 }, kept.Select(e => e.Seq));
        Assert.Equal(new[] { "k0", "k1", "k2", "k3" }, kept.Select(e => e.IdempotencyKey));
    }

    [Fact]
    public async Task A_log_that_refuses_a_write_at_once_fails_the_appends_instead_of_leaving_them_waiting()
    {
        var customer = Events.NewCustomer();
        var grain = _cluster.Client.GetGrain<ICustomerGrain>(customer);
        _log.RefuseNextAtOnce();

        // Refused synchronously, as the in-memory log refuses a stale epoch: the append fails (no hang) and a retry with
        // the same key, on a fresh activation, is kept once.
        await Assert.ThrowsAsync<LogUnavailableException>(() => grain.Append(Events.Make(key: "k")).WaitAsync(TimeSpan.FromSeconds(30)));
        await Eventually.True(async () =>
        {
            try
            {
                await grain.Append(Events.Make(key: "k")).WaitAsync(TimeSpan.FromSeconds(30));
                return true;
            }
            catch (LogUnavailableException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30));
        Assert.Equal(new[] { "k" }, (await _log.ReadAsync(customer, 0, 10, long.MaxValue)).Select(e => e.IdempotencyKey));
    }

    /// <summary>The real in-memory log, except that writes wait for a gate (in the order they were sent) and one can be failed.</summary>
    private sealed class GatedLog : DelegatingEventLog
    {
        private readonly Lock _lock = new();
        private TaskCompletionSource _gate = Opened();
        private Task _tail = Task.CompletedTask;
        private int _inFlight;
        private int _failNext;

        public int InFlight { get { lock (_lock) { return _inFlight; } } }

        public int MaxInFlight { get; private set; }

        public List<(long First, int Count, bool Follows)> Writes { get; } = [];

        public void Hold()
        {
            lock (_lock)
            {
                _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        public void Release()
        {
            lock (_lock)
            {
                _gate.TrySetResult();
            }
        }

        public void FailNext() => Interlocked.Exchange(ref _failNext, 1);

        public void RefuseNextAtOnce() => Interlocked.Exchange(ref _refuseNext, 1);

        private int _refuseNext;

        public override ValueTask AppendAsync(string customer, LogEpoch epoch, IReadOnlyList<EventEnvelope> events, bool follows = false, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _refuseNext, 0) == 1)
            {
                // Thrown by the call itself, before any task exists.
                throw new LogUnavailableException("injected: refused at once");
            }

            return GatedAppendAsync(customer, epoch, events, follows, cancellationToken);
        }

        private async ValueTask GatedAppendAsync(string customer, LogEpoch epoch, IReadOnlyList<EventEnvelope> events, bool follows, CancellationToken cancellationToken)
        {
            var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task previous, gate;
            lock (_lock)
            {
                (previous, _tail) = (_tail, mine.Task);
                gate = _gate.Task;
                MaxInFlight = Math.Max(MaxInFlight, ++_inFlight);
                Writes.Add((events[0].Seq, events.Count, follows));
            }

            try
            {
                // Applied in the order sent, as Redis does on one connection.
                await previous;
                await gate;
                if (Interlocked.Exchange(ref _failNext, 0) == 1)
                {
                    throw new LogUnavailableException("injected: the write did not land");
                }

                await Inner.AppendAsync(customer, epoch, events, follows, cancellationToken);
            }
            finally
            {
                lock (_lock)
                {
                    _inFlight--;
                }

                mine.SetResult();
            }
        }

        private static TaskCompletionSource Opened()
        {
            var opened = new TaskCompletionSource();
            opened.SetResult();
            return opened;
        }
    }
}
