using Fabric.Contracts;
using Fabric.Contracts.Transforms;
using Fabric.Grains.Transforms;
using Fabric.Wasm;
using Microsoft.Extensions.Logging;

namespace Fabric.Grains.Customers;

/// <summary>
/// Ingest transforms: a customer's Wasm module per source, run on each event after its repeat check and before it
/// takes a seq — so what is logged, pushed and delivered is what the module made of it, and a dropped event leaves no
/// trace. The module runs synchronously on the grain's turn (one warm sandbox per source per activation), so an event is
/// handled by one module whole; a new module is compiled off the turn and swapped in between two events.
/// </summary>
/// <remarks>Not thread-safe: it runs on its grain's scheduler.</remarks>
internal sealed partial class SourceTransformSet(
    IPersistentState<SourceTransforms> state, WasmRuntime wasm, TimeProvider time, string customer, ILogger logger)
{
    private readonly Dictionary<string, Attachment> _transforms = new(StringComparer.Ordinal);
    private readonly StateWrites _writes = new();

    /// <summary>The attached modules, compiled (or from the process's cache) before the activation takes its first call.</summary>
    public async Task LoadAsync()
    {
        foreach (var (source, record) in state.State.Sources)
        {
            try
            {
                _transforms[source] = await Attachment.LoadAsync(wasm, record, TransformStage.Ingest, time);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Checked at upload, so only a changed runtime gets here: the source's events pass unchanged, and the
                // operator sees why in the log (the module's hash, never its bytes).
                Log.TransformNotLoaded(logger, ex, customer, source, record.Hash);
            }
        }
    }

    public async Task<TransformAttach> SetAsync(string source, TransformSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var (attachment, answer) = await Attachment.PrepareAsync(wasm, settings, TransformStage.Ingest, time);
        if (attachment is null)
        {
            return answer;
        }

        var sources = state.State.Sources;
        sources.TryGetValue(source, out var before);
        sources[source] = attachment.Record;
        try
        {
            await _writes.WriteAsync(state.WriteStateAsync);
        }
        catch
        {
            Restore(source, before);
            attachment.Dispose();
            throw;
        }

        // The swap: one assignment on this turn. Events before it ran the old module, events after it the new one.
        if (_transforms.Remove(source, out var old))
        {
            old.Dispose();
        }

        _transforms[source] = attachment;
        Log.TransformAttached(logger, customer, source, attachment.Record.Hash);
        return answer;
    }

    public TransformView? Get(string source) => _transforms.TryGetValue(source, out var attachment) ? attachment.View() : null;

    public async Task<bool> RemoveAsync(string source)
    {
        if (!state.State.Sources.Remove(source, out var before))
        {
            return false;
        }

        try
        {
            await _writes.WriteAsync(state.WriteStateAsync);
        }
        catch
        {
            Restore(source, before);
            throw;
        }

        if (_transforms.Remove(source, out var old))
        {
            old.Dispose();
        }

        return true;
    }

    private void Restore(string source, TransformRecord? before)
    {
        if (before is null)
        {
            state.State.Sources.Remove(source);
        }
        else
        {
            state.State.Sources[source] = before;
        }
    }

    /// <summary>
    /// Runs the source's module, if one is attached, on an event about to be admitted. Null = admit it as it is (or as
    /// <paramref name="incoming"/> now says); otherwise the answer for a dropped or rejected event, which takes no seq.
    /// </summary>
    public AppendResult? Apply(ref IncomingEvent incoming, string id, DateTimeOffset now, out string? error, out byte[]? original)
    {
        error = null;
        original = null;
        if (_transforms.Count == 0 || !_transforms.TryGetValue(incoming.Source, out var attachment))
        {
            return null;
        }

        // Under the append span: the module's part of the grain's turn.
        using var activity = GrainsTelemetry.Source.StartActivity(GrainsTelemetry.WasmSpan);
        var outcome = attachment.Transform.Apply(new TransformInput(id, null, incoming.Type, incoming.Source, now, incoming.Data, IsJson(incoming.ContentType)));
        activity?.SetTag(GrainsTelemetry.StageTag, "ingest");
        activity?.SetTag(GrainsTelemetry.OutcomeTag, outcome.Error?.Kind ?? outcome.Resolved.ToString().ToLowerInvariant());
        switch (outcome.Resolved)
        {
            case TransformAction.Drop:
                return new AppendResult(id, 0, false, Dropped: true);
            case TransformAction.Error:
                return new AppendResult(id, 0, false, Rejected: outcome.Error!.Kind);
            case TransformAction.Keep:
                error = outcome.Error?.Kind;
                return null;
        }

        if (outcome.Data is { } data)
        {
            original = attachment.Record.KeepOriginal && IsJson(incoming.ContentType) ? incoming.Data : null;
            incoming = incoming with { Data = data, ContentType = "application/json" };
        }

        if (outcome.Type is { } type)
        {
            incoming = incoming with { Type = type };
        }

        return null;
    }

    private static bool IsJson(string contentType) =>
        contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || contentType.Contains("+json", StringComparison.OrdinalIgnoreCase);

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Warning, "Customer {Customer}: the transform of source {Source} ({Hash}) could not be loaded; its events pass unchanged")]
        public static partial void TransformNotLoaded(ILogger logger, Exception exception, string customer, string source, string hash);

        [LoggerMessage(11, LogLevel.Information, "Customer {Customer}: transform {Hash} attached to source {Source}")]
        public static partial void TransformAttached(ILogger logger, string customer, string source, string hash);
    }
}
