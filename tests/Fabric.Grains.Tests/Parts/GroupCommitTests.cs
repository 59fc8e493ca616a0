using Fabric.Contracts;
using Fabric.Grains.Customers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fabric.Grains.Tests.Parts;

/// <summary>Group commit without a cluster: what goes into each log write, what is answered when, and a failed write.</summary>
public sealed class GroupCommitTests
{
    private readonly Turns _turns = new();
    private readonly LogEpoch _epoch = LogEpoch.New(0);
    private readonly HeldLog _log = new();
    private readonly List<long> _kept = [];
    private readonly List<Exception> _broken = [];

    private GroupCommit Commit(int depth = 1, int batchMax = 512) => new(
        _log, "c1", new CustomerOptions { AppendPipelineDepth = depth, AppendBatchMax = batchMax }, NullLogger.Instance,
        () => _epoch, written => _kept.AddRange(written.Select(w => w.Event.Seq)), _broken.Add);

    private static EventEnvelope Event(long seq, string? key = null) =>
        new($"evt_{seq}", seq, "c1", "test", "t", DateTimeOffset.UtcNow, "application/json", "{}"u8.ToArray(), key, null, null, null, null);

    [Fact]
    public async Task Appends_that_arrive_during_a_write_go_out_together_in_the_next_one()
    {
        var commit = Commit();
        var first = await _turns.Call(() => commit.Add(Event(commit.NextSeq()), startWriting: true));
        var rest = await _turns.Call(() => Enumerable.Range(0, 5).Select(_ => commit.Add(Event(commit.NextSeq()), startWriting: true)).ToArray());

        _log.Release();
        await Task.WhenAll([first, .. rest]);

        Assert.Equal([1, 5], _log.Writes.Select(w => w.Count));
        Assert.Equal([1L, 2, 3, 4, 5, 6], _kept);
        Assert.Equal([2L, 3, 4, 5, 6], rest.Select(r => r.Result.Seq));
    }

    [Fact]
    public async Task An_append_is_answered_only_once_its_write_is_kept()
    {
        var commit = Commit();
        var answer = await _turns.Call(() => commit.Add(Event(commit.NextSeq()), startWriting: true));
        await _log.Started.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(answer.IsCompleted);
        Assert.Empty(_kept);
        _log.Release();
        Assert.Equal(1, (await answer).Seq);
    }

    [Fact]
    public async Task One_batch_calls_events_are_never_split_across_writes()
    {
        var commit = Commit(batchMax: 3);
        _log.Release();
        var answers = await _turns.Call(() =>
        {
            var first = commit.Assigned + 1;
            var pending = Enumerable.Range(0, 5).Select(_ => commit.Add(Event(commit.NextSeq()), startWriting: false)).ToArray();
            commit.KeepTogether(first, commit.Assigned);
            commit.StartWriting();
            return pending;
        });
        await Task.WhenAll(answers);

        Assert.Equal([5], _log.Writes.Select(w => w.Count));
    }

    [Fact]
    public async Task A_key_being_written_answers_its_repeat_with_the_same_task()
    {
        var commit = Commit();
        var answer = await _turns.Call(() => commit.Add(Event(commit.NextSeq(), key: "k1"), startWriting: true));

        Assert.True(commit.TryGetInFlight("test", "k1", out var inFlight));
        Assert.Same(answer, inFlight);
        _log.Release();
        await answer;
        Assert.False(commit.TryGetInFlight("test", "k1", out _));
    }

    [Fact]
    public async Task A_failed_write_fails_every_waiting_append_and_breaks_the_commit()
    {
        var commit = Commit(depth: 2);
        _log.Fail = new InvalidOperationException("redis went away");
        var answers = await _turns.Call(() => Enumerable.Range(0, 3).Select(_ => commit.Add(Event(commit.NextSeq()), startWriting: true)).ToArray());
        _log.Release();

        foreach (var answer in answers)
        {
            await Assert.ThrowsAsync<LogUnavailableException>(() => answer);
        }

        Assert.Single(_broken);
        Assert.NotNull(commit.Broken);
        Assert.Empty(_kept);
        await _turns.Run(commit.StartWriting);
        Assert.False(commit.TryGetInFlight("test", "k1", out _));
    }

    /// <summary>The in-memory log, with each write held until the test releases the log (then every write goes at once).</summary>
    private sealed class HeldLog : DelegatingEventLog
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<IReadOnlyList<EventEnvelope>> Writes { get; } = [];

        public Exception? Fail { get; set; }

        public Task Started => _started.Task;

        public void Release() => _released.TrySetResult();

        public override ValueTask AppendAsync(string customer, LogEpoch epoch, IReadOnlyList<EventEnvelope> events, bool follows = false, CancellationToken cancellationToken = default) =>
            new(WriteAsync(customer, epoch, events, follows, cancellationToken));

        private async Task WriteAsync(string customer, LogEpoch epoch, IReadOnlyList<EventEnvelope> events, bool follows, CancellationToken cancellationToken)
        {
            _started.TrySetResult();
            await _released.Task;
            if (Fail is { } failure)
            {
                throw failure;
            }

            lock (Writes)
            {
                Writes.Add(events);
            }

            await Inner.AppendAsync(customer, epoch, events, follows, cancellationToken);
        }
    }
}
