using Fabric.Contracts.Endpoints;
using Fabric.Contracts.Transforms;
using Fabric.Grains.Customers;

namespace Fabric.Grains.Tests.Parts;

/// <summary>Endpoint cursors without a cluster: hold-back of the trim, forward-only progress, and the notice backstop.</summary>
public sealed class EndpointCursorsTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly CustomerOptions Options = new()
    {
        RetentionMaxEvents = 100, RetentionMaxBytes = 1_000, RetentionMaxAge = TimeSpan.FromHours(1),
        EndpointHoldMaxEvents = 500, EndpointHoldMaxBytes = 5_000, EndpointHoldMaxAge = TimeSpan.FromHours(24),
    };

    private readonly MemoryState<EndpointRegistrations> _state = new();
    private readonly Dictionary<string, Endpoint> _endpoints = [];
    private readonly List<Backstop> _backstops = [];
    private readonly EndpointCursors _cursors;
    private long _lastSeq;

    public EndpointCursorsTests() => _cursors = new EndpointCursors(_state, Options, () => _lastSeq,
        id => _endpoints.TryGetValue(id, out var e) ? e : _endpoints[id] = new Endpoint(),
        tick => Add(new Backstop(tick)));

    private Backstop Add(Backstop backstop)
    {
        _backstops.Add(backstop);
        return backstop;
    }

    [Fact]
    public async Task Retention_is_normal_while_no_endpoint_lags_and_holds_back_for_the_lowest_cursor_within_bounds()
    {
        await _cursors.AddAsync("a", 1_000, lastSeq: 1_000);
        Assert.Equal(new(100, 1_000, Now - TimeSpan.FromHours(1)), _cursors.Limits(Now, 1_000));

        await _cursors.AddAsync("b", 800, lastSeq: 1_000);
        Assert.Equal(new(200, 5_000, Now - TimeSpan.FromHours(24)), _cursors.Limits(Now, 1_000));

        _cursors.Progress("b", 10);                     // backwards: ignored
        await _cursors.AddAsync("c", 0, lastSeq: 1_000);
        Assert.Equal(500, _cursors.Limits(Now, 1_000).MaxEvents);   // 1,000 behind, held to EndpointHoldMaxEvents
    }

    [Fact]
    public async Task Progress_moves_known_cursors_forward_only_and_a_removed_endpoint_stays_removed()
    {
        await _cursors.AddAsync("a", 5, lastSeq: 10);
        _cursors.Progress("a", 8);
        _cursors.Progress("a", 6);
        await _cursors.RemoveAsync("gone");
        _cursors.Progress("gone", 9);

        Assert.Equal(8, _state.State.Cursors["a"]);
        Assert.Equal(["a"], _cursors.List());
        Assert.Equal(1, _state.Writes);
    }

    [Fact]
    public async Task Every_endpoint_hears_of_a_push_and_lagging_ones_hear_again_a_few_times_at_most()
    {
        await _cursors.AddAsync("behind", 0, lastSeq: 0);
        await _cursors.AddAsync("caught-up", 0, lastSeq: 0);
        _lastSeq = 10;
        _cursors.Notify(10);
        _cursors.Progress("caught-up", 10);

        var backstop = Assert.Single(_backstops);
        for (var tick = 0; tick < EndpointCursors.NoticeRepeats + 2; tick++)
        {
            await backstop.TickAsync();
        }

        Assert.Equal(1 + EndpointCursors.NoticeRepeats, _endpoints["behind"].Heard.Count);
        Assert.Equal([10L], _endpoints["caught-up"].Heard);
        Assert.True(backstop.Disposed);
    }

    [Fact]
    public async Task The_backstop_goes_once_no_endpoint_lags()
    {
        await _cursors.AddAsync("a", 0, lastSeq: 0);
        _lastSeq = 3;
        _cursors.Notify(3);
        _cursors.Progress("a", 3);
        await _backstops[0].TickAsync();

        Assert.True(_backstops[0].Disposed);
        _cursors.Notify(4);
        Assert.Equal(2, _backstops.Count);   // a later push starts a new one
    }

    private sealed class Backstop(Func<CancellationToken, Task> tick) : IDisposable
    {
        public bool Disposed { get; private set; }

        public Task TickAsync() => Disposed ? Task.CompletedTask : tick(CancellationToken.None);

        public void Dispose() => Disposed = true;
    }

    /// <summary>An endpoint grain that records the notices it hears; nothing else is called by the cursors.</summary>
    private sealed class Endpoint : IEndpointGrain
    {
        public List<long> Heard { get; } = [];

        public Task OnAppended(long lastSeq)
        {
            Heard.Add(lastSeq);
            return Task.CompletedTask;
        }

        public Task<EndpointView> Create(EndpointSettings settings, string protectedSecret, long? afterSeq) => throw new NotSupportedException();
        public Task<EndpointView?> GetView() => throw new NotSupportedException();
        public Task<EndpointView?> Update(EndpointSettings changes) => throw new NotSupportedException();
        public Task<bool> Delete() => throw new NotSupportedException();
        public Task<EndpointView?> RotateSecret(string protectedSecret, TimeSpan overlap) => throw new NotSupportedException();
        public Task<IReadOnlyList<MessageView>?> GetMessages(MessageStatus status, int limit) => throw new NotSupportedException();
        public Task<RetryOutcome> Retry(string eventId) => throw new NotSupportedException();
        public Task<RecoveryView?> Recover(DateTimeOffset since) => throw new NotSupportedException();
        public Task<RecoveryView?> GetRecovery() => throw new NotSupportedException();
        public Task<TransformAttach?> SetTransform(TransformSettings settings) => throw new NotSupportedException();
        public Task<TransformView?> GetTransform() => throw new NotSupportedException();
        public Task<bool> RemoveTransform() => throw new NotSupportedException();
    }
}
