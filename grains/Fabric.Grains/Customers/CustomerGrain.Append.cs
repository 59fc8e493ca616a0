using System.Diagnostics;
using Fabric.Contracts;

namespace Fabric.Grains.Customers;

/// <summary>
/// The front of the append path: each event is admitted synchronously (a repeat answers with the first event, a new
/// one takes the next seq and joins the batch), then waits for the group commit in <c>CustomerGrain.Commit.cs</c>.
/// </summary>
internal sealed partial class CustomerGrain
{
    public async Task<AppendResult> Append(IncomingEvent incoming)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        // In the event's own trace even when the call's context did not carry it (a coalesced call, a sampler upstream).
        using var activity = StartOwnAppendSpan(incoming, Activity.Current) ?? GrainsTelemetry.Source.StartActivity(GrainsTelemetry.AppendSpan);
        if (incoming.IdempotencyKey is not null)
        {
            await EnsureKeysAsync();
        }

        var result = await Admit(incoming, _time.GetUtcNow(), startWriting: true);
        activity?.SetTag("fabric.seq", result.Seq);
        activity?.SetTag("fabric.duplicate", result.Duplicate);
        return result;
    }

    public async Task<IReadOnlyList<AppendResult>> AppendBatch(IReadOnlyList<IncomingEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        using var activity = GrainsTelemetry.Source.StartActivity(GrainsTelemetry.AppendSpan);
        activity?.SetTag("fabric.batch", events.Count);
        if (events.Any(e => e.IdempotencyKey is not null))
        {
            await EnsureKeysAsync();
        }

        var now = _time.GetUtcNow();
        // All admitted in this one turn, before any write starts: consecutive seqs, and one log write for the lot
        // (a call is never split across writes, whatever AppendBatchMax and AppendBatchMaxBytes say).
        var pending = new Task<AppendResult>[events.Count];
        var first = _assignedSeq + 1;
        var call = Activity.Current;
        for (var i = 0; i < events.Count; i++)
        {
            var own = StartOwnAppendSpan(events[i], call);
            pending[i] = Admit(events[i], now, startWriting: false);
            if (own is not null)
            {
                Activity.Current = call;
                _ = EndWhenKeptAsync(own, pending[i]);
            }
        }

        if (_assignedSeq > first)
        {
            _units.Add((first, _assignedSeq));
        }

        StartWriting();
        return await Task.WhenAll(pending);
    }

    /// <summary>
    /// Synchronously decides an event's fate: a repeat of a kept or in-flight key answers with the first event; a new
    /// event takes the next seq and joins the batch. The returned task completes once the event is kept.
    /// </summary>
    private Task<AppendResult> Admit(IncomingEvent incoming, DateTimeOffset now, bool startWriting)
    {
        if (_broken is not null)
        {
            return Task.FromException<AppendResult>(new LogUnavailableException("The customer's log failed; this activation is being replaced."));
        }

        if (incoming.IdempotencyKey is { } key)
        {
            if (_idempotency.TryGet(incoming.Source, key, now, out var first))
            {
                GrainsTelemetry.Duplicates.Add(1);
                return Task.FromResult(first);
            }

            if (_inFlightKeys.TryGetValue((incoming.Source, key), out var pending))
            {
                // The same key is being written right now: answer with that event once it is kept.
                GrainsTelemetry.Duplicates.Add(1);
                return AsDuplicateAsync(pending);
            }
        }

        var id = "evt_" + Guid.CreateVersion7(now).ToString("N");
        if (ApplyTransform(ref incoming, id, now, out var transformError, out var original) is { } dropped)
        {
            // Dropped or rejected by the source's module: no seq taken, nothing stored, no key remembered.
            return Task.FromResult(dropped);
        }

        var envelope = new EventEnvelope(
            Id: id,
            Seq: ++_assignedSeq,
            Customer: Customer,
            Source: incoming.Source,
            Type: incoming.Type,
            Time: now,
            ContentType: incoming.ContentType,
            Data: incoming.Data,
            IdempotencyKey: incoming.IdempotencyKey,
            TraceParent: incoming.TraceParent ?? Activity.Current?.Id,
            CloudEvent: incoming.CloudEvent,
            TransformError: transformError,
            Original: original);

        // Kept first, acknowledged after: the answer waits for the log write that carries this event.
        return CommitAsync(envelope, startWriting);
    }

    /// <summary>
    /// A span of its own for an event of another trace than the call's (single events a gateway coalesced into one
    /// call, or a call whose context did not come through): an operator following that event still sees its append,
    /// its transform under it, and its seq. Null when the event has no trace or the current one is its own.
    /// </summary>
    private static Activity? StartOwnAppendSpan(IncomingEvent incoming, Activity? call)
    {
        if (!GrainsTelemetry.Source.HasListeners()
            || incoming.TraceParent is not { } traceParent || !ActivityContext.TryParse(traceParent, null, out var parent)
            || parent.TraceId == call?.TraceId)
        {
            return null;
        }

        return GrainsTelemetry.Source.StartActivity(GrainsTelemetry.AppendSpan, ActivityKind.Internal, parent);
    }

    private static async Task EndWhenKeptAsync(Activity span, Task<AppendResult> kept)
    {
        try
        {
            var result = await kept;
            span.SetTag("fabric.seq", result.Seq);
            span.SetTag("fabric.duplicate", result.Duplicate);
        }
        catch (Exception ex)
        {
            span.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
        }
        finally
        {
            span.Dispose();
        }
    }

    private static async Task<AppendResult> AsDuplicateAsync(Task<AppendResult> first) => (await first) with { Duplicate = true };
}
