using System.Text;
using Fabric.Contracts.Transforms;
using Fabric.Wasm;

namespace Fabric.Grains.Transforms;

/// <summary>
/// A module attached to a source or an endpoint, as a grain activation holds it: the stored record and the live
/// <see cref="Transform"/>. The customer grain (ingest) and the endpoint grain (outbound) share this, so both stages
/// check, load, swap and show modules the same way.
/// </summary>
public sealed class Attachment : IDisposable
{
    private Attachment(TransformRecord record, Transform transform)
    {
        Record = record;
        Transform = transform;
    }

    public TransformRecord Record { get; }

    public Transform Transform { get; }

    /// <summary>
    /// Checks and compiles a module and runs its <c>init</c>, off the grain's turn (compiling takes milliseconds and
    /// must not hold up the events in front of it); the caller swaps the result in on its own turn, between two events.
    /// </summary>
    public static async Task<(Attachment? Attachment, TransformAttach Answer)> PrepareAsync(
        WasmRuntime runtime, TransformSettings settings, TransformStage stage, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (ParsePolicy(settings.OnError, stage) is not { } policy)
        {
            return (null, new TransformAttach(null, "invalid-on-error", "onError must be keep, drop or reject."));
        }

        var config = settings.Config is null ? null : Encoding.UTF8.GetBytes(settings.Config);
        var prepared = await Task.Run(() => runtime.Prepare(settings.Module, config));
        if (prepared.Problem is { } problem)
        {
            return (null, new TransformAttach(null, problem.Code, problem.Detail, problem.IsUnprocessable));
        }

        var record = new TransformRecord
        {
            Module = settings.Module,
            Hash = prepared.Module!.Module.Hash,
            Config = settings.Config ?? "{}",
            OnError = PolicyName(policy),
            KeepOriginal = settings.KeepOriginal && stage == TransformStage.Ingest,
            Attached = time.GetUtcNow(),
        };
        var attachment = new Attachment(record, new Transform(runtime, prepared.Module, policy, stage, time));
        return (attachment, new TransformAttach(attachment.View()));
    }

    /// <summary>A module attached before, for a new activation: compiled off the turn (or taken from the cache), started at its first event.</summary>
    public static async Task<Attachment> LoadAsync(WasmRuntime runtime, TransformRecord record, TransformStage stage, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(record);
        var module = await Task.Run(() => runtime.Load(record.Hash, record.Module, Encoding.UTF8.GetBytes(record.Config)));
        return new Attachment(record, new Transform(runtime, module, ParsePolicy(record.OnError, stage) ?? Default(stage), stage, time));
    }

    public TransformView View()
    {
        var c = Transform.Counters;
        return new TransformView(
            Record.Hash,
            Record.Module.Length,
            Record.Config,
            Record.OnError,
            Record.KeepOriginal,
            Record.Attached,
            new TransformCountersView(c.Calls, c.Kept, c.Dropped, c.Replaced, c.Errors, c.Fuel, c.Since, c.Micros),
            [.. Transform.RecentErrors.Select(e => new TransformErrorView(e.Time, e.Kind, e.Message, e.EventId))],
            [.. Transform.Logs.Recent.Select(l => new TransformLogView(l.Time, l.Level, l.Message))]);
    }

    public void Dispose() => Transform.Dispose();

    /// <summary>Ingest keeps an event its module failed on (nothing is lost); outbound refuses to send a body its module could not shape.</summary>
    public static ErrorPolicy Default(TransformStage stage) => stage == TransformStage.Ingest ? ErrorPolicy.Keep : ErrorPolicy.Reject;

    private static ErrorPolicy? ParsePolicy(string? name, TransformStage stage) => name switch
    {
        null => Default(stage),
        "keep" => ErrorPolicy.Keep,
        "drop" => ErrorPolicy.Drop,
        "reject" => ErrorPolicy.Reject,
        _ => null,
    };

    private static string PolicyName(ErrorPolicy policy) => policy switch
    {
        ErrorPolicy.Keep => "keep",
        ErrorPolicy.Drop => "drop",
        _ => "reject",
    };
}
