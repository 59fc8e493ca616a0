using System.Collections.Concurrent;
using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Events;

/// <summary>
/// Single events on their way to a customer's grain, gathered under load: at most
/// <see cref="IngestOptions.CallsInFlight"/> calls per customer are in flight from this gateway, and the events that
/// arrive while they are busy go together in the next one (<see cref="ICustomerGrain.AppendBatch"/>). A grain call's
/// cost (its message, invoker, task and turn) is then paid once per batch rather than once per request; at low load an
/// event never waits, it goes alone and at once. Each event keeps its own answer, its own idempotency key and its own
/// trace: the call runs under the first event's span, and the grain gives every other event an append span in its own.
/// </summary>
internal sealed class AppendCoalescer(CustomerGrains grains, IOptions<IngestOptions> options)
{
    private readonly IngestOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);

    /// <summary>Appends one event; completes once it is kept (or with the call's exception, as a lone call would).</summary>
    public Task<AppendResult> AppendAsync(string customer, IncomingEvent incoming)
    {
        if (_options.CallsInFlight == 0)
        {
            return grains.Get(customer).Append(incoming);
        }

        var lane = _lanes.GetOrAdd(customer, static c => new Lane(c));
        lock (lane)
        {
            if (lane.InFlight >= _options.CallsInFlight)
            {
                var waiter = new Waiter(incoming, Activity.Current);
                lane.Waiting.Enqueue(waiter);
                return waiter.Answer.Task;
            }

            lane.InFlight++;
        }

        return SendAloneAsync(lane, incoming);
    }

    private async Task<AppendResult> SendAloneAsync(Lane lane, IncomingEvent incoming)
    {
        AppendResult result;
        try
        {
            result = await grains.Get(lane.Customer).Append(incoming);
        }
        catch (Exception ex)
        {
            FailWaiting(lane, ex);
            SendNext(lane);
            throw;
        }

        SendNext(lane);
        return result;
    }

    /// <summary>A call finished: the events that waited meanwhile go next, in one call; or the lane has one call fewer.</summary>
    private void SendNext(Lane lane)
    {
        List<Waiter> batch;
        lock (lane)
        {
            if (lane.Waiting.Count == 0)
            {
                if (--lane.InFlight == 0)
                {
                    // Idle lanes are not kept: a gateway sees many customers. One taken from the map just before this
                    // goes on working detached; it only means one more call in flight for a moment.
                    _lanes.TryRemove(new KeyValuePair<string, Lane>(lane.Customer, lane));
                }

                return;
            }

            batch = [];
            long bytes = 0;
            while (batch.Count < _options.BatchMaxEvents && lane.Waiting.TryPeek(out var next)
                && (batch.Count == 0 || bytes + next.Event.Data.Length <= _options.BatchMaxBytes))
            {
                bytes += next.Event.Data.Length;
                batch.Add(lane.Waiting.Dequeue());
            }
        }

        GatewayTelemetry.Coalesced.Record(batch.Count);
        // On a thread of its own, without the flow of whichever request's continuation got here (its logging scope,
        // its HttpContext), and never as a recursion of the call that just ended.
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Coalescer.SendBatchAsync(state.Lane, state.Batch), (Coalescer: this, Lane: lane, Batch: batch), preferLocal: true);
    }

    private async Task SendBatchAsync(Lane lane, List<Waiter> batch)
    {
        // The call runs under the first event's span; the grain gives each other event a span in its own trace.
        Activity.Current = batch[0].Span;
        IReadOnlyList<AppendResult> results;
        try
        {
            results = batch.Count == 1
                ? [await grains.Get(lane.Customer).Append(batch[0].Event)]
                : await grains.Get(lane.Customer).AppendBatch(batch.ConvertAll(w => w.Event));
            if (results.Count != batch.Count)
            {
                throw new InvalidOperationException($"The grain answered {results.Count} of {batch.Count} events.");
            }
        }
        catch (Exception ex)
        {
            FailWaiting(lane, ex);
            SendNext(lane);
            foreach (var waiter in batch)
            {
                waiter.Answer.TrySetException(ex);
            }

            return;
        }

        // The next call starts before this one's answers are written, so the grain is never left waiting on them.
        SendNext(lane);
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Answer.TrySetResult(results[i]);
        }
    }

    /// <summary>
    /// A call failed: the grain could not be reached or could not confirm. What waited behind it would most likely
    /// fare the same, after another call's timeout each; it is answered now instead (503, retry with the same key).
    /// </summary>
    private static void FailWaiting(Lane lane, Exception exception)
    {
        List<Waiter> behind;
        lock (lane)
        {
            behind = [.. lane.Waiting];
            lane.Waiting.Clear();
        }

        foreach (var waiter in behind)
        {
            waiter.Answer.TrySetException(exception);
        }
    }

    private sealed class Lane(string customer)
    {
        public string Customer { get; } = customer;

        public int InFlight { get; set; }

        public Queue<Waiter> Waiting { get; } = new();
    }

    private sealed record Waiter(IncomingEvent Event, Activity? Span)
    {
        // Each request goes on on a thread of its own, not one after another on the thread that got the batch's answers.
        public TaskCompletionSource<AppendResult> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
