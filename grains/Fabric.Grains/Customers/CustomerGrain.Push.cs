using System.Diagnostics;
using Fabric.Contracts;
using Orleans.Streams;

namespace Fabric.Grains.Customers;

internal sealed partial class CustomerGrain
{
    private readonly List<EventEnvelope> _pending = [];
    private bool _flushScheduled;
    private readonly List<EventEnvelope> _streamBacklog = [];
    private IAsyncStream<EventEnvelope>? _stream;
    private bool _publishing;

    /// <summary>
    /// Queues an accepted event for pushing. The flush is one turn of this activation, queued behind the requests
    /// already waiting for it: under load many appends share one push, when idle the push follows at once. (A grain
    /// timer did this before, at the cost of a thread-pool hop and the process-wide timer lock per push.)
    /// </summary>
    private void EnqueuePush(EventEnvelope envelope)
    {
        _pending.Add(envelope);
        if (!_flushScheduled)
        {
            _flushScheduled = true;
            _ = FlushSoonAsync();
        }
    }

    private async Task FlushSoonAsync()
    {
        // Yields to the activation's scheduler: the flush runs after the turns already queued there.
        await Task.Yield();
        Flush();
    }

    private void Flush()
    {
        _flushScheduled = false;
        if (_pending.Count == 0)
        {
            return;
        }

        var events = _pending.ToArray();
        _pending.Clear();
        foreach (var chunk in Chunks(events, _options.PushBatchMax, _options.PushBatchMaxBytes))
        {
            using var activity = StartPushActivity(chunk);
            var batch = new EventBatch(Customer, chunk, _epoch, activity?.Id);
            // One-way: the call returns at once, a dead gateway costs nothing here; it drops out when it stops renewing
            // (ObserverExpiry).
            _ = _gateways.Notify(o => o.OnEvents(batch));
            GrainsTelemetry.Pushes.Add(1);
        }

        NotifyEndpoints(events[^1].Seq);

        if (_options.PublishToStream && _streamConsumers.Any)
        {
            _streamBacklog.AddRange(events);
            var over = _streamBacklog.Count - _options.StreamBacklogMax;
            if (over > 0)
            {
                // Said, not silent: the stream is best effort (see CustomerOptions.PublishToStream); the log is the record.
                _streamBacklog.RemoveRange(0, over);
                GrainsTelemetry.StreamDropped.Add(over);
                WarnStreamOverflow(over);
            }

            if (!_publishing)
            {
                // Not awaited: timer ticks do not overlap, so awaiting here would hold the next push behind the
                // stream's round trips. The loop runs on the grain's scheduler, interleaving at its awaits.
                _ = PublishToStreamAsync();
            }
        }
    }

    /// <summary>
    /// The push of one batch: a child of its first event's ingest span (so a single event's trace reads POST → append →
    /// push → sockets), linked to the ingest spans of the batch's other events.
    /// </summary>
    private Activity? StartPushActivity(EventEnvelope[] chunk)
    {
        if (!GrainsTelemetry.Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(chunk[0].TraceParent, null, out var first);
        var links = TraceLinks.ToEach(chunk.Skip(1));
        var activity = GrainsTelemetry.Source.StartActivity(GrainsTelemetry.PushSpan, ActivityKind.Producer, first, links: links);
        activity?.SetTag(GrainsTelemetry.CustomerTag, Customer);
        activity?.SetTag(GrainsTelemetry.EventsTag, chunk.Length);
        return activity;
    }

    /// <summary>
    /// Says so at most once per <see cref="StreamWarningInterval"/>, with the count since the last warning: a stream that
    /// cannot keep up overflows at every push, and a warning per push was a log storm (5 % of a silo's CPU under load,
    /// measured, in the console logger alone). The metric counts every event.
    /// </summary>
    private void WarnStreamOverflow(int dropped)
    {
        _streamDroppedUnreported += dropped;
        var now = Environment.TickCount64;
        if (_lastStreamWarning == 0 || now - _lastStreamWarning >= (long)StreamWarningInterval.TotalMilliseconds)
        {
            Log.StreamOverflow(_logger, Customer, _streamDroppedUnreported);
            _streamDroppedUnreported = 0;
            _lastStreamWarning = now;
        }
    }

    private static readonly TimeSpan StreamWarningInterval = TimeSpan.FromSeconds(10);
    private long _lastStreamWarning;
    private long _streamDroppedUnreported;

    /// <summary>Consecutive slices of at most <paramref name="max"/> events and <paramref name="maxBytes"/> (at least one event).</summary>
    private static IEnumerable<EventEnvelope[]> Chunks(EventEnvelope[] events, int max, long maxBytes)
    {
        for (var start = 0; start < events.Length;)
        {
            var count = EventSize.Fit(events.Length - start, max, maxBytes, i => events[start + i]);
            yield return events[start..(start + count)];
            start += count;
        }
    }

    /// <summary>
    /// Publishes the backlog one event at a time: the stream keeps per-producer order only when each publish completes
    /// before the next. One loop at a time drains the backlog, so order holds across flushes; it never holds up
    /// appends or pushes. A failed event is logged and counted, not retried, and the rest follow.
    /// </summary>
    private async Task PublishToStreamAsync()
    {
        _stream ??= this.GetStreamProvider(FabricStreams.ProviderName)
            .GetStream<EventEnvelope>(StreamId.Create(FabricStreams.CustomerEvents, Customer));
        _publishing = true;
        try
        {
            while (_streamBacklog.Count > 0)
            {
                var events = _streamBacklog.ToArray();
                _streamBacklog.Clear();
                foreach (var e in events)
                {
                    try
                    {
                        await _stream.OnNextAsync(e);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // The event is kept and pushed already; a stream hiccup must not fail ingestion.
                        GrainsTelemetry.StreamDropped.Add(1);
                        Log.StreamPublishFailed(_logger, ex, Customer, e.Seq);
                    }
                }
            }
        }
        finally
        {
            _publishing = false;
        }
    }
}
