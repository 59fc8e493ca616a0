using System.Diagnostics;
using Fabric.Contracts;

namespace Fabric.Grains.Customers;

/// <summary>
/// Group commit. An append takes the next seq at once and joins the batch; one write loop at a time sends the batch to
/// the log and, once it is kept, acknowledges every event in it, remembers their keys and queues their push. Appends
/// that arrive while a write is in flight go out together in the next one — sent before the first is answered, up to
/// <see cref="CustomerOptions.AppendPipelineDepth"/> writes in flight — so a slow round trip (Redis) is shared by all
/// of them and does not leave the log idle while it lasts.
/// </summary>
internal sealed partial class CustomerGrain
{
    private readonly List<(EventEnvelope Event, TaskCompletionSource<AppendResult> Done)> _batch = [];

    // The seq range of each AppendBatch call still waiting: a write never splits one call's events, so a batch request
    // is kept whole or not at all, and a retry after a failure cannot store half of it twice.
    private readonly List<(long First, long Last)> _units = [];
    private readonly Dictionary<(string Source, string Key), Task<AppendResult>> _inFlightKeys = [];
    private long _assignedSeq;
    private bool _writing;

    // Writes sent and not yet answered, oldest first (at most AppendPipelineDepth), and whether a turn that sends the
    // next one is already queued.
    private readonly Queue<(List<(EventEnvelope Event, TaskCompletionSource<AppendResult> Done)> Take, Task Write)> _inFlight = new();
    private bool _sendScheduled;
    private Exception? _broken;
    private DateTimeOffset _lastTrim;

    // The ids of the seqs this activation wrote, newest few thousand: a gateway's witness is checked against them.
    private readonly RecentIds _recent = new(4096);

    private Task<AppendResult> CommitAsync(EventEnvelope envelope, bool startWriting)
    {
        var done = new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _batch.Add((envelope, done));
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

    private void StartWriting()
    {
        if (_batch.Count == 0 || _broken is not null)
        {
            return;
        }

        if (!_writing)
        {
            // Runs on this activation's scheduler and interleaves at its awaits (the grain is reentrant).
            _ = WriteLoopAsync();
        }
        else if (_inFlight.Count < _options.AppendPipelineDepth && !_sendScheduled)
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
        if (_writing && _broken is null)
        {
            SendWrites();
        }
    }

    /// <summary>Sends what is waiting, as writes of at most a batch each, up to the pipeline's depth.</summary>
    private void SendWrites()
    {
        while (_batch.Count > 0 && _inFlight.Count < _options.AppendPipelineDepth)
        {
            var take = TakeWrite();
            // follows: the write before it is still in flight, so a gap before this one is that write's failure.
            Task write;
            try
            {
                var started = Stopwatch.GetTimestamp();
                write = _log.AppendAsync(Customer, _epoch, take.ConvertAll(t => t.Event), follows: _inFlight.Count > 0).AsTask();
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
            while (_inFlight.Count > 0 && _broken is null)
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
                    var failed = new List<(EventEnvelope Event, TaskCompletionSource<AppendResult> Done)>();
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
                // Nothing slow between two log writes: trimming and the reminder run beside the loop.
                StartMaintenance();
                SendWrites();
            }
        }
        finally
        {
            _writing = false;
        }
    }

    /// <summary>A write is kept: its events are acknowledged, remembered and queued for pushing.</summary>
    private void Acknowledge(List<(EventEnvelope Event, TaskCompletionSource<AppendResult> Done)> written)
    {
        _head = _head with { LastSeq = written[^1].Event.Seq };
        foreach (var (e, done) in written)
        {
            _idempotency.Remember(e);
            if (e.IdempotencyKey is { } key)
            {
                _inFlightKeys.Remove((e.Source, key));
            }

            _recent.Add(e.Seq, e.Id);
            _bytesSinceTrim += EventSize.Of(e);
            EnqueuePush(e);
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
    private List<(EventEnvelope Event, TaskCompletionSource<AppendResult> Done)> TakeWrite()
    {
        var count = EventSize.Fit(_batch.Count, _options.AppendBatchMax, _options.AppendBatchMaxBytes, i => _batch[i].Event);

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
    /// Retention and the sweep reminder, one run at a time, interleaved with the writes instead of between them: a slow
    /// reminder table or trim never holds up the next append. Trims when over the count or byte limit, or about once a
    /// second for age; the reminder is looked at once per activation that wrote.
    /// </summary>
    private void StartMaintenance()
    {
        if (_maintaining)
        {
            _maintainAgain = true;
            return;
        }

        _ = MaintainAsync();
    }

    private async Task MaintainAsync()
    {
        _maintaining = true;
        try
        {
            do
            {
                _maintainAgain = false;
                if (!_sweepKept)
                {
                    await KeepRetentionSweepAsync();
                }

                var now = _time.GetUtcNow();
                if (_head.LastSeq - _head.FirstRetainedSeq + 1 > Limits(now).MaxEvents || now - _lastTrim >= TimeSpan.FromSeconds(1) || _bytesSinceTrim > _options.RetentionMaxBytes / 8)
                {
                    _bytesSinceTrim = 0;
                    await TrimAsync(now, keys: true);
                }
            }
            while (_maintainAgain && _broken is null);
        }
        finally
        {
            _maintaining = false;
        }
    }

    private bool _maintaining;
    private bool _maintainAgain;
    private bool _sweepKept;
    private long _bytesSinceTrim;

    /// <summary>
    /// A write whose outcome is unknown leaves this activation's seqs in doubt, so it fails every waiting append (their
    /// producers retry with the same key) and makes way for a fresh activation, which reads the head back from the log.
    /// </summary>
    private void Fail(Exception ex, List<(EventEnvelope Event, TaskCompletionSource<AppendResult> Done)> failed)
    {
        Log.AppendFailed(_logger, ex, Customer, failed.Count + _batch.Count);
        _broken = ex;
        foreach (var (_, done) in failed.Concat(_batch))
        {
            // No inner exception: it is logged here, and a driver's exception type (Redis) cannot cross to the gateway.
            done.TrySetException(new LogUnavailableException("The event could not be written to the customer's log; retry with the same idempotency key."));
        }

        _batch.Clear();
        _units.Clear();
        _inFlightKeys.Clear();
        this.DeactivateOnIdle();
    }
}
