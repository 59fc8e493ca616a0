using System.Diagnostics;
using System.Text.Json;
using Fabric.Contracts;
using Fabric.Contracts.Endpoints;
using Fabric.Outbound.Delivery;
using Microsoft.AspNetCore.DataProtection;

namespace Fabric.Outbound.Endpoints;

/// <summary>One attempt and what it leads to: delivered, a retry at the schedule's next step, failed for good, or disabled.</summary>
internal sealed partial class EndpointGrain
{
    public const string DisabledEventType = "fabric.endpoint.disabled";

    private IReadOnlyList<string>? _secrets;

    private async Task AttemptAsync(Message message, bool manual)
    {
        message.InFlight = true;
        _inFlight++;
        try
        {
            var config = State.Config!;
            var envelope = _bodies.Remove(message.Seq, out var cached) ? cached : await ReadEventAsync(message.Seq);
            if (State.Config is null || _stopping.IsCancellationRequested)
            {
                return;
            }

            var now = _time.GetUtcNow();
            if (envelope is null || envelope.Id != message.EventId)
            {
                // Gone from the log (trimmed past the hold-back bound, or lost by a log that started over).
                message.Reason = envelope is null ? "expired" : "lost";
                Finish(message, manual, delivered: false, now);
                return;
            }

            // The attempt's span covers the module's call and the POST.
            using var activity = StartAttemptActivity(config, envelope, message.Attempts.Count + 1, manual);

            // The body this endpoint gets, shaped by its module (if any) on this turn, whole.
            if (Shape(envelope, out var settled, out var dropped) is not { } shaped)
            {
                activity?.SetTag(OutboundTelemetry.OutcomeTag, settled);
                message.Reason = settled;
                Finish(message, manual, delivered: dropped, now);
                _dirty = true;
                return;
            }

            // The configuration as it is now: a rotation or an update may have landed while the event was read.
            config = State.Config!;
            var result = await SendAsync(config, shaped, activity);
            if (State.Config is null || _stopping.IsCancellationRequested)
            {
                return;
            }

            message.Attempts.Add(result.Attempt);
            OutboundTelemetry.Attempts.Add(1, new KeyValuePair<string, object?>("outcome", Outcome(result)));
            activity?.SetTag(OutboundTelemetry.OutcomeTag, Outcome(result));
            now = _time.GetUtcNow();
            if (result.Succeeded)
            {
                State.FailingSince = null;
                OutboundTelemetry.Latency.Record((now - envelope.Time).TotalMilliseconds);
                if (_knownLast != long.MaxValue)
                {
                    OutboundTelemetry.Lag.Record(Math.Max(0, _knownLast - message.Seq));
                }

                Finish(message, manual, delivered: true, now);
            }
            else
            {
                State.FailingSince ??= result.Attempt.Time;
                if (result.Gone)
                {
                    // The receiver said it wants no more: stop here, keep what is pending for a re-enable.
                    message.Due = now;
                    await DisableAsync("the endpoint answered 410 Gone", now);
                }
                else if (manual || message.Attempts.Count > config.RetrySchedule.Count)
                {
                    Finish(message, manual, delivered: false, now);
                }
                else
                {
                    var step = config.RetrySchedule[message.Attempts.Count - 1];
                    // A Retry-After of 0 (or a date gone by) must not spend the schedule back to back.
                    var wait = result.RetryAfter is { } asked ? TimeSpan.FromTicks(Math.Max(asked.Ticks, TimeSpan.TicksPerSecond)) : step * (1 + (_options.RetryJitter * Random.Shared.NextDouble()));
                    message.Due = now + wait;
                }

                if (State.Config is { Enabled: true } && now - State.FailingSince >= _options.DisableAfter)
                {
                    await DisableAsync($"every attempt failed since {State.FailingSince:O}", now);
                }
            }

            // Saved with the next write (at most SaveInterval away): what a crash loses is only that much attempt
            // history, and the message is attempted again from the saved cursor — at-least-once either way.
            _dirty = true;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Deactivating or deleted: the message stays as saved and is attempted again by the next activation.
        }
        catch (Exception ex)
        {
            // Unexpected (a log read failed): the message stays as it was and is attempted again shortly.
            Log.PumpFailed(_logger, ex, Key.Endpoint);
            message.Due = _time.GetUtcNow() + TimeSpan.FromSeconds(5);
        }
        finally
        {
            message.InFlight = false;
            _inFlight--;
            Wake();
        }
    }

    private static string Outcome(AttemptResult result) => result.Attempt.ResponseStatus switch
    {
        >= 200 and < 300 => "success",
        410 => "gone",
        429 or 503 => "throttled",
        { } => "failure",
        null => result.Attempt.Error ?? "error",
    };

    /// <summary>
    /// One attempt's span. The first automatic attempt is a child of the event's ingest span: one trace shows the POST
    /// in and the POST out. A retry (perhaps hours later) or an operator's resend starts a trace of its own, linked to
    /// the ingest trace, as OpenTelemetry advises for work done later on behalf of a finished trace.
    /// </summary>
    private Activity? StartAttemptActivity(EndpointRecord config, EventEnvelope envelope, int attempt, bool manual)
    {
        if (!OutboundTelemetry.Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(envelope.TraceParent, null, out var ingest);
        var first = attempt == 1 && !manual;
        var activity = first
            ? OutboundTelemetry.Source.StartActivity(OutboundTelemetry.AttemptSpan, ActivityKind.Client, ingest)
            : TraceLinks.StartRoot(OutboundTelemetry.Source, OutboundTelemetry.AttemptSpan, ActivityKind.Client, TraceLinks.To(envelope.TraceParent));
        activity?.SetTag(OutboundTelemetry.CustomerTag, Key.Customer);
        activity?.SetTag(OutboundTelemetry.EndpointTag, config.Id);
        activity?.SetTag(OutboundTelemetry.SeqTag, envelope.Seq);
        activity?.SetTag(OutboundTelemetry.AttemptTag, attempt);
        if (!first)
        {
            activity?.SetTag(OutboundTelemetry.ReasonTag, manual ? "resend" : "retry");
        }

        return activity;
    }

    /// <summary>The POST itself: Standard Webhooks headers, one signature per active secret, the endpoint's headers, the trace.</summary>
    private async Task<AttemptResult> SendAsync(EndpointRecord config, EventEnvelope envelope, Activity? activity)
    {
        var body = WebhookBody.Of(envelope);
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        var headers = new Dictionary<string, string>(config.Headers, StringComparer.OrdinalIgnoreCase)
        {
            ["webhook-id"] = envelope.Id,
            ["webhook-timestamp"] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["webhook-signature"] = StandardWebhooks.Sign(Secrets(config), envelope.Id, timestamp, body),
            ["user-agent"] = "Fabric-Webhooks/1",
        };
        // Traced, HttpClient sends the traceparent of its own span under the attempt's; untraced, the receiver still
        // gets the event's ingest trace.
        if (activity is null && envelope.TraceParent is { } traceparent)
        {
            headers["traceparent"] = traceparent;
        }

        var result = await _sender.SendAsync(Url(config), headers, body, config.Timeout, _stopping.Token);
        activity?.SetTag("http.response.status_code", result.Attempt.ResponseStatus);
        if (!result.Succeeded)
        {
            activity?.SetStatus(ActivityStatusCode.Error, result.Attempt.Error);
        }

        return result;
    }

    /// <summary>The endpoint's URL, parsed once per configuration rather than once per attempt.</summary>
    private Uri Url(EndpointRecord config)
    {
        if (_url is null || !ReferenceEquals(_urlOf, config.Url))
        {
            _urlOf = config.Url;
            _url = new Uri(config.Url);
        }

        return _url;
    }

    private Uri? _url;
    private string? _urlOf;

    /// <summary>The secrets that sign now: the newest, and the ones it replaced until their overlap ends.</summary>
    private IReadOnlyList<string> Secrets(EndpointRecord config)
    {
        var now = _time.GetUtcNow();
        if (_secrets is null || now >= _secretsUntil || !ReferenceEquals(_secretsOf, config.Secrets))
        {
            _secretsOf = config.Secrets;
            var active = config.Secrets.Where(s => s.Until is null || s.Until > now).ToList();
            _secrets = [.. active.Select(s => _protector.Unprotect(s.Protected))];
            _secretsUntil = active.Select(s => s.Until ?? DateTimeOffset.MaxValue).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
        }

        return _secrets;
    }

    private DateTimeOffset _secretsUntil;
    private List<EndpointSecret>? _secretsOf;

    private async Task<EventEnvelope?> ReadEventAsync(long seq)
    {
        var page = await CustomerGrain.GetSince(seq - 1, 1);
        return page.Events is [{ } e, ..] && e.Seq == seq && (State.Epoch is null || page.Epoch.Id == State.Epoch || page.Epoch.Covers(State.Epoch, seq)) ? e : null;
    }

    /// <summary>A message settles: out of the open set (or the manual queue) into the delivered or failed list.</summary>
    private void Finish(Message message, bool manual, bool delivered, DateTimeOffset now)
    {
        if (manual)
        {
            State.Manual.Remove(message);
            if (message.Recovering && State.Recovery is { } recovery)
            {
                message.Recovering = false;
                var done = recovery.Done + 1;
                State.Recovery = recovery with
                {
                    Done = done,
                    Delivered = recovery.Delivered + (delivered ? 1 : 0),
                    Failed = recovery.Failed + (delivered ? 0 : 1),
                    Finished = done >= recovery.Total ? now : null,
                };
            }
        }

        Settle(message, failed: !delivered, message.Reason, now);
    }

    private void Settle(Message message, bool failed, string? reason, DateTimeOffset now)
    {
        // Only this very message: a retried one of an older epoch may share its seq with an open one of this epoch.
        if (_open.TryGetValue(message.Seq, out var open) && ReferenceEquals(open, message))
        {
            _open.Remove(message.Seq);
            _bodies.Remove(message.Seq);
        }

        message.Due = null;
        message.Reason = reason;
        message.Settled = now;
        if (failed)
        {
            OutboundTelemetry.Failed.Add(1);
            AddFailed(message);
        }
        else
        {
            OutboundTelemetry.Delivered.Add(1);
            _history.State.Delivered.Add(message);
            KeepNewest(_history.State.Delivered, _options.KeepDelivered);
            _historyDirty = true;
        }

        _dirty = true;
    }

    private void AddFailed(Message message)
    {
        State.Failed.Add(message);
        KeepNewest(State.Failed, _options.KeepFailed);
    }

    /// <summary>
    /// Drops the oldest past <paramref name="keep"/>, in steps of an eighth of it: dropping one per settled message
    /// moved the whole list every time.
    /// </summary>
    private static void KeepNewest(List<Message> messages, int keep)
    {
        if (messages.Count > keep + (keep / 8))
        {
            messages.RemoveRange(0, messages.Count - keep);
        }
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
        _dirty = _urgent = true;
        OutboundTelemetry.Disabled.Add(1);
        Log.Disabled(_logger, config.Id, reason);
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

        var data = buffer.WrittenSpan.ToArray();
        try
        {
            await CustomerGrain.Append(new IncomingEvent("fabric", DisabledEventType, "application/json", data, $"{DisabledEventType}/{config.Id}/{now.UtcTicks}", Activity.Current?.Id));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.DisabledEventFailed(_logger, ex, config.Id);
        }
    }
}
