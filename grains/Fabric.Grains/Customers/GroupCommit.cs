using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Grains.Log;
using Microsoft.Extensions.Logging;

namespace Fabric.Grains.Customers;

/// <summary>An event waiting for its log write, and its append's answer.</summary>
internal readonly record struct PendingAppend(EventEnvelope Event, TaskCompletionSource<AppendResult> Done);

/// <summary>
/// Group commit. An append takes the next seq at once and joins the batch; one write loop at a time sends the batch to
/// the log and, once it is kept, hands its events to <c>kept</c> and answers every append in it. Appends that arrive
/// while a write is in flight go out together in the next one — sent before the first is answered, up to
/// <see cref="CustomerOptions.AppendPipelineDepth"/> writes in flight — so a slow round trip (Redis) is shared by all
/// of them and does not leave the log idle while it lasts.
/// </summary>
/// <remarks>
/// Not thread-safe: it runs on its grain's scheduler (or any one-at-a-time scheduler), and its loops interleave with
/// the grain's turns at their awaits. Seqs are handed out synchronously, so order never depends on that interleaving.
/// </remarks>
internal sealed partial class GroupCommit(
    IEventLog log,
    string customer,
    CustomerOptions options,
    ILogger logger,
    Func<LogEpoch> epoch,
    Action<List<PendingAppend>> kept,
    Action<Exception> broken)
{
    private readonly List<PendingAppend> _batch = [];

    // The seq range of each AppendBatch call still waiting: a write never splits one call's events, so a batch request
    // is kept whole or not at all, and a retry after a failure cannot store half of it twice.
    private readonly List<(long First, long Last)> _units = [];
    private readonly Dictionary<(string Source, string Key), Task<AppendResult>> _inFlightKeys = [];

    // Writes sent and not yet answered, oldest first (at most AppendPipelineDepth), and whether a turn that sends the
    // next one is already queued.
    private readonly Queue<(List<PendingAppend> Take, Task Write)> _inFlight = new();
    private bool _sendScheduled;
    private bool _writing;

    /// <summary>The last seq handed out: kept, or waiting for its write.</summary>
    public long Assigned { get; private set; }

    /// <summary>Set once a write's outcome is unknown: nothing more is admitted by this activation.</summary>
    public Exception? Broken { get; private set; }

    /// <summary>Starts handing out seqs after <paramref name="lastSeq"/>, the log's head.</summary>
    public void StartAfter(long lastSeq) => Assigned = lastSeq;

    public long NextSeq() => ++Assigned;

    /// <summary>The answer to an append of the same key being written right now, if any.</summary>
    public bool TryGetInFlight(string source, string key, out Task<AppendResult> first) =>
        _inFlightKeys.TryGetValue((source, key), out first!);

    /// <summary>Keeps the seqs <paramref name="first"/>..<paramref name="last"/> (one <c>AppendBatch</c> call) in one write.</summary>
    public void KeepTogether(long first, long last)
    {
        if (last > first)
        {
            _units.Add((first, last));
        }
    }

    /// <summary>Queues an admitted event; the task completes once it is kept.</summary>
    public Task<AppendResult> Add(EventEnvelope envelope, bool startWriting)
    {
        var done = new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _batch.Add(new PendingAppend(envelope, done));
        if (envelope.IdempotencyKey is { } key)
        {
            _inFlightKeys[(envelope.Source, key)] = done.Task;
        }

        if (startWriting)
        {
            StartWriting();
        }

        return done.Task;
    }

    public void StartWriting()
    {
        if (_batch.Count == 0 || Broken is not null)
        {
            return;
        }

        if (!_writing)
        {
            _ = WriteLoopAsync();
        }
        else if (_inFlight.Count < options.AppendPipelineDepth && !_sendScheduled)
        {
            _sendScheduled = true;
            _ = SendSoonAsync();
        }
    }

    /// <summary>
    /// Sends the next write while another is in flight, one turn later: the appends already queued for this activation
    /// join it, instead of the first of them going out alone.
    /// </summary>
    private async Task SendSoonAsync()
    {
        await Task.Yield();
        _sendScheduled = false;
        if (_writing && Broken is null)
        {
            SendWrites();
        }
    }

    /// <summary>Sends what is waiting, as writes of at most a batch each, up to the pipeline's depth.</summary>
    private void SendWrites()
    {
        while (_batch.Count > 0 && _inFlight.Count < options.AppendPipelineDepth)
        {
            var take = TakeWrite();
            // follows: the write before it is still in flight, so a gap before this one is that write's failure.
            Task write;
            try
            {
                var started = Stopwatch.GetTimestamp();
                write = log.AppendAsync(customer, epoch(), take.ConvertAll(t => t.Event), follows: _inFlight.Count > 0).AsTask();
                // Timed beside the write loop, off the grain's scheduler: one measure per write, not per event.
                _ = write.ContinueWith(static (_, state) => GrainsTelemetry.AppendLatency.Record(Stopwatch.GetElapsedTime((long)state!).TotalMilliseconds),
                    started, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            catch (Exception ex)
            {
                // A log that refuses at once (the in-memory one does) fails through the same path as one that refuses later.
                write = Task.FromException(ex);
            }

            _inFlight.Enqueue((take, write));
        }
    }

    private async Task WriteLoopAsync()
    {
        _writing = true;
        try
        {
            SendWrites();
            while (_inFlight.Count > 0 && Broken is null)
            {
                // The log answers writes in the order they were sent; each is acknowledged in turn.
                var (written, write) = _inFlight.Peek();
                try
                {
                    await write;
                }
                catch (Exception ex)
                {
                    // The writes behind it are refused by the log (a gap) or their outcome is as unknown as this one's.
                    var failed = new List<PendingAppend>();
                    foreach (var (take, sent) in _inFlight)
                    {
                        failed.AddRange(take);
                        sent.Ignore();
                    }

                    _inFlight.Clear();
                    Fail(ex, failed);
                    return;
                }

                _inFlight.Dequeue();
                Acknowledge(written);
                SendWrites();
            }
        }
        finally
        {
            _writing = false;
        }
    }

    private void Acknowledge(List<PendingAppend> written)
    {
        kept(written);
        foreach (var (e, done) in written)
        {
            if (e.IdempotencyKey is { } key)
            {
                _inFlightKeys.Remove((e.Source, key));
            }

            done.SetResult(new AppendResult(e.Id, e.Seq, false));
        }

        GrainsTelemetry.Appended.Add(written.Count);
        GrainsTelemetry.AppendBatch.Record(written.Count);
    }

    /// <summary>
    /// The next write: up to <see cref="CustomerOptions.AppendBatchMax"/> events and
    /// <see cref="CustomerOptions.AppendBatchMaxBytes"/> (at least one event), extended to the end of an
    /// <c>AppendBatch</c> call it would otherwise split.
    /// </summary>
    private List<PendingAppend> TakeWrite()
    {
        var count = EventSize.Fit(_batch.Count, options.AppendBatchMax, options.AppendBatchMaxBytes, i => _batch[i].Event);

        var cut = _batch[count - 1].Event.Seq;
        foreach (var (first, last) in _units)
        {
            if (first <= cut && cut < last)
            {
                count += (int)(last - cut);
            }
        }

        var take = _batch.GetRange(0, count);
        _batch.RemoveRange(0, count);
        _units.RemoveAll(u => u.Last <= take[^1].Event.Seq);
        return take;
    }

    /// <summary>
    /// A write whose outcome is unknown leaves this activation's seqs in doubt, so it fails every waiting append (their
    /// producers retry with the same key) and makes way for a fresh activation, which reads the head back from the log.
    /// </summary>
    private void Fail(Exception ex, List<PendingAppend> failed)
    {
        Log.AppendFailed(logger, ex, customer, failed.Count + _batch.Count);
        Broken = ex;
        foreach (var (_, done) in failed.Concat(_batch))
        {
            // No inner exception: it is logged here, and a driver's exception type (Redis) cannot cross to the gateway.
            done.TrySetException(new LogUnavailableException("The event could not be written to the customer's log; retry with the same idempotency key."));
        }

        _batch.Clear();
        _units.Clear();
        _inFlightKeys.Clear();
        broken(ex);
    }

    private static partial class Log
    {
        [LoggerMessage(4, LogLevel.Warning, "Writing {Count} events to the log of customer {Customer} failed; the activation will be replaced")]
        public static partial void AppendFailed(ILogger logger, Exception exception, string customer, int count);
    }
}
