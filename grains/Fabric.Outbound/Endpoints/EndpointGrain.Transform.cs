using Fabric.Contracts;
using Fabric.Contracts.Transforms;
using Fabric.Grains;
using Fabric.Grains.Transforms;
using Fabric.Wasm;

namespace Fabric.Outbound.Endpoints;

/// <summary>
/// The endpoint's outbound transform: a Wasm module that shapes the body this endpoint receives (or drops the event
/// for it). Run on the grain's turn just before an attempt's POST, so a retry after a hot swap sends what the new module
/// makes. Kept in its own grain state, apart from the delivery state that is written every second.
/// </summary>
internal sealed partial class EndpointGrain
{
    private Attachment? _transform;
    private readonly StateWrites _transformWrites = new();

    private async Task LoadTransformAsync()
    {
        if (_transformState.State.Record is not { } record)
        {
            return;
        }

        try
        {
            _transform = await Attachment.LoadAsync(_wasm, record, TransformStage.Outbound, _time);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Checked at upload: only a changed runtime gets here. Messages are then failed by the reject policy below
            // rather than sent unshaped.
            Log.TransformNotLoaded(_logger, ex, Key.Endpoint, record.Hash);
            _transformBroken = true;
        }
    }

    private bool _transformBroken;

    public async Task<TransformAttach?> SetTransform(TransformSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (State.Config is null)
        {
            return null;
        }

        var (attachment, answer) = await Attachment.PrepareAsync(_wasm, settings, TransformStage.Outbound, _time);
        if (attachment is null)
        {
            return answer;
        }

        var before = _transformState.State.Record;
        _transformState.State.Record = attachment.Record;
        try
        {
            await _transformWrites.WriteAsync(_transformState.WriteStateAsync);
        }
        catch
        {
            _transformState.State.Record = before;
            attachment.Dispose();
            throw;
        }

        // Between two attempts: each body is shaped by one module whole.
        _transform?.Dispose();
        _transform = attachment;
        _transformBroken = false;
        return answer;
    }

    public Task<TransformView?> GetTransform() => Task.FromResult(State.Config is null ? null : _transform?.View());

    public async Task<bool> RemoveTransform()
    {
        if (State.Config is null || _transformState.State.Record is not { } before)
        {
            return false;
        }

        _transformState.State.Record = null;
        try
        {
            await _transformWrites.WriteAsync(_transformState.ClearStateAsync);
        }
        catch
        {
            _transformState.State.Record = before;
            throw;
        }

        _transform?.Dispose();
        _transform = null;
        _transformBroken = false;
        return true;
    }

    /// <summary>
    /// The event as this endpoint receives it: unchanged, reshaped by its module, or null with the reason the message
    /// settles without a POST (<c>dropped</c> by the module, or <c>transform-{kind}</c> when it failed and the policy
    /// rejects).
    /// </summary>
    private EventEnvelope? Shape(EventEnvelope envelope, out string? reason, out bool dropped)
    {
        reason = null;
        dropped = false;
        if (_transform is not { } attachment)
        {
            if (_transformBroken)
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

    private static bool IsJson(string contentType) =>
        contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || contentType.Contains("+json", StringComparison.OrdinalIgnoreCase);
}
