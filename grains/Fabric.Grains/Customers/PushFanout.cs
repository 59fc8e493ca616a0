using System.Diagnostics;
using Fabric.Contracts;
using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Utilities;

namespace Fabric.Grains.Customers;

/// <summary>
/// Pushes kept events to the gateways that hold the customer's sockets, in chunks, and publishes them on the
/// customer's Orleans stream when anyone consumes it. A push is one turn of the grain queued behind the requests
/// already waiting for it: under load many appends share one push, when idle the push follows at once.
/// </summary>
/// <remarks>Not thread-safe: it runs on its grain's scheduler.</remarks>
internal sealed partial class PushFanout(
    string customer,
    CustomerOptions options,
    ObserverManager<string, IGatewayObserver> gateways,
    ILogger logger,
    Func<LogEpoch> epoch,
    Func<IAsyncStream<EventEnvelope>?> stream,
    Action<long> pushed)
{
    private static readonly TimeSpan StreamWarningInterval = TimeSpan.FromSeconds(10);

    private readonly List<EventEnvelope> _pending = [];
    private readonly List<EventEnvelope> _streamBacklog = [];
    private bool _flushScheduled;
    private bool _publishing;
    private long _lastStreamWarning;
    private long _streamDroppedUnreported;

    /// <summary>Queues a kept event; the push follows in a later turn.</summary>
    public void Enqueue(EventEnvelope envelope)
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
        // Yields to the scheduler: the flush runs after the turns already queued there.
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
        foreach (var chunk in Chunks(events, options.PushBatchMax, options.PushBatchMaxBytes))
        {
            using var activity = StartPushActivity(chunk);
            var batch = new EventBatch(customer, chunk, epoch(), activity?.Id);
            // One-way: the call returns at once, a dead gateway costs nothing here; it drops out when it stops renewing
            // (ObserverExpiry).
            _ = gateways.Notify(o => o.OnEvents(batch));
            GrainsTelemetry.Pushes.Add(1);
        }

        pushed(events[^1].Seq);
        if (stream() is { } target)
        {
            Publish(target, events);
        }
    }

    private void Publish(IAsyncStream<EventEnvelope> target, EventEnvelope[] events)
    {
        _streamBacklog.AddRange(events);
        var over = _streamBacklog.Count - options.StreamBacklogMax;
        if (over > 0)
        {
            // Said, not silent: the stream is best effort (see CustomerOptions.PublishToStream); the log is the record.
            _streamBacklog.RemoveRange(0, over);
            GrainsTelemetry.StreamDropped.Add(over);
            WarnStreamOverflow(over);
        }

        if (!_publishing)
        {
            // Not awaited: the stream's round trips must not hold the next push. The loop interleaves at its awaits.
            _ = PublishAsync(target);
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
        activity?.SetTag(GrainsTelemetry.CustomerTag, customer);
        activity?.SetTag(GrainsTelemetry.EventsTag, chunk.Length);
        return activity;
    }

    /// <summary>
    /// At most one warning per <see cref="StreamWarningInterval"/>, with the count since the last: a stream that cannot
    /// keep up overflows at every push, and a warning per push is a log storm. The metric counts every event.
    /// </summary>
    private void WarnStreamOverflow(int dropped)
    {
        _streamDroppedUnreported += dropped;
        var now = Environment.TickCount64;
        if (_lastStreamWarning == 0 || now - _lastStreamWarning >= (long)StreamWarningInterval.TotalMilliseconds)
        {
            Log.StreamOverflow(logger, customer, _streamDroppedUnreported);
            _streamDroppedUnreported = 0;
            _lastStreamWarning = now;
        }
    }

    /// <summary>Consecutive slices of at most <paramref name="max"/> events and <paramref name="maxBytes"/> (at least one event).</summary>
    internal static IEnumerable<EventEnvelope[]> Chunks(EventEnvelope[] events, int max, long maxBytes)
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
    /// before the next. One loop at a time drains the backlog, so order holds across pushes; it never holds up appends
    /// or pushes. A failed event is logged and counted, not retried, and the rest follow.
    /// </summary>
    private async Task PublishAsync(IAsyncStream<EventEnvelope> target)
    {
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
                        await target.OnNextAsync(e);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // The event is kept and pushed already; a stream hiccup must not fail ingestion.
                        GrainsTelemetry.StreamDropped.Add(1);
                        Log.StreamPublishFailed(logger, ex, customer, e.Seq);
                    }
                }
            }
        }
        finally
        {
            _publishing = false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(9, LogLevel.Warning, "Customer {Customer}: {Count} events were not published on the Orleans stream (backlog full; at most one such warning per 10 s)")]
        public static partial void StreamOverflow(ILogger logger, string customer, long count);

        [LoggerMessage(2, LogLevel.Warning, "Publishing event {Seq} of customer {Customer} to its stream failed")]
        public static partial void StreamPublishFailed(ILogger logger, Exception exception, string customer, long seq);
    }
}
