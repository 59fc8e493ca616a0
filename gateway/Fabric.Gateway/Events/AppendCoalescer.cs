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
        try
        {
            return await grains.Get(lane.Customer).Append(incoming);
        }
        finally
        {
            SendNext(lane);
        }
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
        _ = SendBatchAsync(lane, batch);
    }

    private async Task SendBatchAsync(Lane lane, List<Waiter> batch)
    {
        // The call runs under the first event's span, not under whichever request's continuation got here.
        Activity.Current = batch[0].Span;
        IReadOnlyList<AppendResult> results;
        try
        {
            results = batch.Count == 1
                ? [await grains.Get(lane.Customer).Append(batch[0].Event)]
                : await grains.Get(lane.Customer).AppendBatch(batch.ConvertAll(w => w.Event));
        }
        catch (Exception ex)
        {
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
