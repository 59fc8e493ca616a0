using System.Diagnostics;
using System.Text.Json;
using Fabric.Contracts;
using Fabric.Outbound.Delivery;
using Fabric.Rules.Outbound;
using Microsoft.Extensions.Logging;

namespace Fabric.Outbound.Endpoints;

/// <summary>
/// One attempt at a message and what it leads to: read (or take) the event, shape it with the endpoint's module, POST
/// it, and apply the <see cref="AttemptOutcome"/> — delivered, a retry at the schedule's next step, failed for good, or
/// the endpoint disabled (said on the customer's own log as <c>fabric.endpoint.disabled</c>).
/// </summary>
internal sealed partial class AttemptRunner(
    (string Customer, string Endpoint) key,
    Func<EndpointState> current,
    ICustomerGrain customerLog,
    DeliverySchedule schedule,
    EndpointStore store,
    EndpointLedger ledger,
    SignedPost post,
    EndpointTransformSlot transform,
    OutboundOptions options,
    TimeProvider time,
    ILogger logger,
    Action attempted,
    CancellationToken stopping)
{
    public const string DisabledEventType = "fabric.endpoint.disabled";

    private EndpointState State => current();

    /// <summary>Runs one attempt started by <see cref="DeliverySchedule.TakeDue"/>; the loop is rung when it ends.</summary>
    public async Task RunAsync(Message message, bool manual)
    {
        try
        {
            var envelope = schedule.TryTakeBody(message.Seq, out var cached) ? cached : await ReadEventAsync(message.Seq);
            if (State.Config is null || stopping.IsCancellationRequested)
            {
                return;
            }

            var now = time.GetUtcNow();
            if (envelope is null || envelope.Id != message.EventId)
            {
                // Gone from the log (trimmed past the hold-back bound, or lost by a log that started over).
                message.Reason = envelope is null ? "expired" : "lost";
                ledger.Finish(message, manual, delivered: false, now);
                return;
            }

            // The attempt's span covers the module's call and the POST.
            using var activity = SignedPost.StartActivity(key.Customer, State.Config, envelope, message.Attempts.Count + 1, manual);

            // The body this endpoint gets, shaped by its module (if any) on this turn, whole.
            if (transform.Shape(envelope, out var settled, out var dropped) is not { } shaped)
            {
                activity?.SetTag(OutboundTelemetry.OutcomeTag, settled);
                message.Reason = settled;
                ledger.Finish(message, manual, delivered: dropped, now);
                return;
            }

            // The configuration as it is now: a rotation or an update may have landed while the event was read.
            var result = await post.SendAsync(State.Config!, shaped, activity, stopping);
            if (State.Config is not { } config || stopping.IsCancellationRequested)
            {
                return;
            }

            message.Attempts.Add(result.Attempt);
            var outcome = SignedPost.Outcome(result);
            OutboundTelemetry.Attempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
            activity?.SetTag(OutboundTelemetry.OutcomeTag, outcome);
            now = time.GetUtcNow();
            State.FailingSince = result.Succeeded ? null : State.FailingSince ?? result.Attempt.Time;
            if (result.Succeeded)
            {
                OutboundTelemetry.Latency.Record((now - envelope.Time).TotalMilliseconds);
                if (schedule.KnownLast != long.MaxValue)
                {
                    OutboundTelemetry.Lag.Record(Math.Max(0, schedule.KnownLast - message.Seq));
                }
            }

            await ApplyAsync(message, manual, AttemptOutcome.Of(
                result, message.Attempts.Count, manual, config, now, State.FailingSince ?? now, options.DisableAfter, options.RetryJitter, Random.Shared.NextDouble()), now);

            // Saved with the next write (at most SaveInterval away): what a crash loses is only that much attempt
            // history, and the message is attempted again from the saved cursor — at-least-once either way.
            store.Changed();
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Deactivating or deleted: the message stays as saved and is attempted again by the next activation.
        }
        catch (Exception ex)
        {
            // Unexpected (a log read failed): the message stays as it was and is attempted again shortly.
            Log.PumpFailed(logger, ex, key.Endpoint);
            message.Due = time.GetUtcNow() + options.ErrorRetry;
        }
        finally
        {
            schedule.Ended(message);
            attempted();
        }
    }

    private async Task ApplyAsync(Message message, bool manual, AttemptOutcome outcome, DateTimeOffset now)
    {
        switch (outcome)
        {
            case AttemptOutcome.Delivered:
                ledger.Finish(message, manual, delivered: true, now);
                break;
            case AttemptOutcome.Failed:
                ledger.Finish(message, manual, delivered: false, now);
                break;
            case AttemptOutcome.RetryAt retry:
                message.Due = retry.Due;
                break;
            case AttemptOutcome.Disable disable:
                await ApplyAsync(message, manual, disable.Then, now);
                await DisableAsync(disable.Reason, now);
                break;
        }
    }

    /// <summary>The event at <paramref name="seq"/>, or null when the log no longer holds it in this endpoint's epoch.</summary>
    public async Task<EventEnvelope?> ReadEventAsync(long seq)
    {
        var page = await customerLog.GetSince(seq - 1, 1);
        return page.Events is [{ } e, ..] && e.Seq == seq && (State.Epoch is null || page.Epoch.Id == State.Epoch || page.Epoch.Covers(State.Epoch, seq)) ? e : null;
    }

    /// <summary>
    /// Stops delivery and says so on the customer's own log (<c>fabric.endpoint.disabled</c>), so its sockets and other
    /// endpoints see it. Pending messages stay; a re-enable attempts them again.
    /// </summary>
    private async Task DisableAsync(string reason, DateTimeOffset now)
    {
        if (State.Config is not { Enabled: true } config)
        {
            return;
        }

        State.Config = config with { Enabled = false, DisabledReason = reason, Updated = now };
        store.Changed(urgent: true);
        OutboundTelemetry.Disabled.Add(1);
        Log.Disabled(logger, config.Id, reason);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("endpoint", config.Id);
            json.WriteString("reason", reason);
            if (State.FailingSince is { } since)
            {
                json.WriteString("failingSince", since);
            }

            json.WriteString("disabledAt", now);
            json.WriteEndObject();
        }

        try
        {
            var data = buffer.WrittenSpan.ToArray();
            await customerLog.Append(new IncomingEvent("fabric", DisabledEventType, "application/json", data, $"{DisabledEventType}/{config.Id}/{now.UtcTicks}", Activity.Current?.Id));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.DisabledEventFailed(logger, ex, config.Id);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Warning, "Endpoint {Endpoint} disabled: {Reason}")]
        public static partial void Disabled(ILogger logger, string endpoint, string reason);

        [LoggerMessage(3, LogLevel.Warning, "Publishing fabric.endpoint.disabled for endpoint {Endpoint} failed")]
        public static partial void DisabledEventFailed(ILogger logger, Exception exception, string endpoint);

        [LoggerMessage(5, LogLevel.Warning, "Endpoint {Endpoint}: delivery loop failed; it starts again")]
        public static partial void PumpFailed(ILogger logger, Exception exception, string endpoint);

    }
}
