using Fabric.Contracts;
using Fabric.Contracts.Transforms;
using Fabric.Grains;
using Fabric.Grains.Transforms;
using Fabric.Wasm;
using Microsoft.Extensions.Logging;

namespace Fabric.Outbound.Endpoints;

/// <summary>
/// The endpoint's outbound transform: a Wasm module that shapes the body this endpoint receives (or drops the event
/// for it). Run on the grain's turn just before an attempt's POST, so a retry after a hot swap sends what the new module
/// makes. Kept in its own grain state, apart from the delivery state that is written every second.
/// </summary>
/// <remarks>Not thread-safe: it runs on its grain's scheduler.</remarks>
internal sealed partial class EndpointTransformSlot(IPersistentState<EndpointTransform> state, WasmRuntime wasm, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly StateWrites _writes = new();
    private Attachment? _attached;
    private bool _broken;

    public bool IsSet => state.State.Record is not null;

    public async Task LoadAsync(string endpoint)
    {
        if (state.State.Record is not { } record)
        {
            return;
        }

        try
        {
            _attached = await Attachment.LoadAsync(wasm, record, TransformStage.Outbound, time);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Checked at upload: only a changed runtime gets here. Messages are then failed by the reject policy below
            // rather than sent unshaped.
            Log.TransformNotLoaded(logger, ex, endpoint, record.Hash);
            _broken = true;
        }
    }

    public async Task<TransformAttach> SetAsync(TransformSettings settings)
    {
        var (attachment, answer) = await Attachment.PrepareAsync(wasm, settings, TransformStage.Outbound, time);
        if (attachment is null)
        {
            return answer;
        }

        var before = state.State.Record;
        state.State.Record = attachment.Record;
        try
        {
            await _writes.WriteAsync(state.WriteStateAsync);
        }
        catch
        {
            state.State.Record = before;
            attachment.Dispose();
            throw;
        }

        // Between two attempts: each body is shaped by one module whole.
        _attached?.Dispose();
        _attached = attachment;
        _broken = false;
        return answer;
    }

    public TransformView? Get() => _attached?.View();

    public async Task<bool> RemoveAsync()
    {
        if (state.State.Record is not { } before)
        {
            return false;
        }

        state.State.Record = null;
        try
        {
            await _writes.WriteAsync(state.ClearStateAsync);
        }
        catch
        {
            state.State.Record = before;
            throw;
        }

        Detach();
        return true;
    }

    /// <summary>The module goes with the endpoint: its state is cleared after the writes under way.</summary>
    public async Task ClearAsync()
    {
        if (state.State.Record is not null)
        {
            await _writes.WriteAsync(state.ClearStateAsync);
        }

        Detach();
    }

    /// <summary>
    /// The event as this endpoint receives it: unchanged, reshaped by its module, or null with the reason the message
    /// settles without a POST (<c>dropped</c> by the module, or <c>transform-{kind}</c> when it failed and the policy
    /// rejects).
    /// </summary>
    public EventEnvelope? Shape(EventEnvelope envelope, out string? reason, out bool dropped)
    {
        reason = null;
        dropped = false;
        if (_attached is not { } attachment)
        {
            if (_broken)
            {
                reason = "transform-unavailable";
                return null;
            }

            return envelope;
        }

        // Under the attempt span: the module's part of this attempt.
        using var activity = OutboundTelemetry.Source.StartActivity(OutboundTelemetry.WasmSpan);
        var outcome = attachment.Transform.Apply(new TransformInput(envelope.Id, envelope.Seq, envelope.Type, envelope.Source, envelope.Time, envelope.Data, IsJson(envelope.ContentType)));
        activity?.SetTag(OutboundTelemetry.StageTag, "outbound");
        activity?.SetTag(OutboundTelemetry.OutcomeTag, outcome.Error?.Kind ?? outcome.Resolved.ToString().ToLowerInvariant());
        switch (outcome.Resolved)
        {
            case TransformAction.Drop:
                reason = "dropped";
                dropped = true;
                return null;
            case TransformAction.Error:
                reason = "transform-" + outcome.Error!.Kind;
                return null;
            case TransformAction.Keep:
                return envelope;
        }

        return envelope with
        {
            Type = outcome.Type ?? envelope.Type,
            Data = outcome.Data ?? envelope.Data,
            ContentType = outcome.Data is null ? envelope.ContentType : "application/json",
        };
    }

    public void Dispose() => Detach();

    private void Detach()
    {
        _attached?.Dispose();
        _attached = null;
        _broken = false;
    }

    private static bool IsJson(string contentType) =>
        contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || contentType.Contains("+json", StringComparison.OrdinalIgnoreCase);

    private static partial class Log
    {
        [LoggerMessage(8, LogLevel.Warning, "Endpoint {Endpoint}: its transform ({Hash}) could not be loaded; its messages fail until it is attached again")]
        public static partial void TransformNotLoaded(ILogger logger, Exception exception, string endpoint, string hash);
    }
}
