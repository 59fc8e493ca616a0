using Fabric.Contracts;
using Fabric.Grains.Log;
using Orleans.TestingHost;

namespace Fabric.Grains.Tests;

/// <summary>
/// A cluster of its own whose log holds every trim until the test lets it go (the real in-memory log underneath), and a
/// stream backlog of one event: what a slow reminder table or trim, and a stream that cannot keep up, must not do.
/// </summary>
public sealed class MaintenanceTests : IAsyncLifetime
{
    private readonly HeldTrimLog _log = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterFixture.StartWithLogAsync(_log, new()
    {
        ["Fabric:Customers:RetentionMaxEvents"] = "5",
        ["Fabric:Customers:StreamBacklogMax"] = "1",
    });

    public async Task DisposeAsync()
    {
        _log.Release();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Appends_are_acknowledged_while_a_trim_is_stuck()
    {
        var grain = _cluster.Client.GetGrain<ICustomerGrain>(Events.NewCustomer());
        // Past the count limit after the first writes: a trim starts, and hangs.
        for (var i = 0; i < 10; i++)
        {
            await grain.Append(Events.Make());
        }

        await Eventually.True(() => _log.TrimsWaiting > 0);
        var more = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => grain.Append(Events.Make()))).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(60, more.Max(r => r.Seq));

        _log.Release();
        await Eventually.True(async () => (await grain.GetSince(0, 0)).FirstRetainedSeq > 1);
    }

    [Fact]
    public async Task A_history_read_never_waits_for_a_trim()
    {
        var grain = _cluster.Client.GetGrain<ICustomerGrain>(Events.NewCustomer());
        for (var i = 0; i < 10; i++)
        {
            await grain.Append(Events.Make());
        }

        await Eventually.True(() => _log.TrimsWaiting > 0);
        var page = await grain.GetSince(0, 100).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(10, page.LastSeq);
    }

    [Fact]
    public async Task Activation_reads_only_the_head_whatever_the_log_holds()
    {
        _log.Release();
        var customer = Events.NewCustomer();
        var grain = _cluster.Client.GetGrain<ICustomerGrain>(customer);
        await grain.AppendBatch([.. Enumerable.Range(0, 100).Select(_ => Events.Make())]);
        await _cluster.DeactivateAsync(grain);
        var reads = _log.Reads(customer);

        // A socket's registration and a head-only read activate the grain: neither events nor keys are read.
        var observer = _cluster.Client.CreateObjectReference<IGatewayObserver>(new NoObserver());
        Assert.Equal(100, (await grain.Subscribe("gw-1", 1, observer, null)).LastSeq);
        Assert.Equal(reads, _log.Reads(customer));

        // The first append with a key loads the keys, once.
        await grain.Append(Events.Make(key: "k-1"));
        await grain.Append(Events.Make(key: "k-2"));
        Assert.Equal(reads with { Keys = reads.Keys + 1 }, _log.Reads(customer));
    }

    private sealed class NoObserver : IGatewayObserver
    {
        public Task OnEvents(EventBatch batch) => Task.CompletedTask;

        public Task OnPresence(PresenceChange change) => Task.CompletedTask;

        public Task OnKick(string customer, string session) => Task.CompletedTask;
    }

    [Fact]
    public async Task Events_the_stream_cannot_take_are_counted_not_silently_skipped()
    {
        long dropped = 0;
        using var listener = Counters.Listen("fabric.stream.dropped", value => Interlocked.Add(ref dropped, value));

        var grain = _cluster.Client.GetGrain<ICustomerGrain>(Events.NewCustomer());
        await grain.AppendBatch([.. Enumerable.Range(0, 100).Select(_ => Events.Make())]);

        await Eventually.True(() => Interlocked.Read(ref dropped) > 0);
    }

    /// <summary>The real in-memory log, except that trims wait until released.</summary>
    private sealed class HeldTrimLog : DelegatingEventLog
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ReadCounts> _reads = new();
        private int _waiting;

        public int TrimsWaiting => Volatile.Read(ref _waiting);

        /// <summary>How often a customer's events and keys were read.</summary>
        public ReadCounts Reads(string customer) => _reads.GetValueOrDefault(customer);

        public void Release() => _released.TrySetResult();

        public override async ValueTask<LogHead> TrimAsync(string customer, RetentionLimits limits, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _waiting);
            await _released.Task;
            return await base.TrimAsync(customer, limits, cancellationToken);
        }

        public override ValueTask<IReadOnlyList<EventEnvelope>> ReadAsync(string customer, long afterSeq, int max, long maxBytes, CancellationToken cancellationToken = default)
        {
            _reads.AddOrUpdate(customer, new ReadCounts(1, 0), (_, r) => r with { Events = r.Events + 1 });
            return base.ReadAsync(customer, afterSeq, max, maxBytes, cancellationToken);
        }

        public override ValueTask<IReadOnlyList<RememberedKey>> ReadKeysAsync(string customer, DateTimeOffset since, int max, CancellationToken cancellationToken = default)
        {
            _reads.AddOrUpdate(customer, new ReadCounts(0, 1), (_, r) => r with { Keys = r.Keys + 1 });
            return base.ReadKeysAsync(customer, since, max, cancellationToken);
        }
    }
}

/// <summary>Reads of one customer's events and keys.</summary>
public readonly record struct ReadCounts(int Events, int Keys);
