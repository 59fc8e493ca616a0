namespace Fabric.Contracts.Transforms;

/// <summary>A module to attach to a source (ingest) or an endpoint (outbound).</summary>
/// <param name="Module">The <c>.wasm</c> bytes.</param>
/// <param name="Config">The JSON object its <c>init</c> receives; null = <c>{}</c>.</param>
/// <param name="OnError">
/// <c>keep</c>, <c>drop</c> or <c>reject</c>; null = the stage's default (ingest <c>keep</c>, outbound <c>reject</c>).
/// </param>
/// <param name="KeepOriginal">Ingest only: keep the payload as received beside the transformed one (history shows it).</param>
[GenerateSerializer, Immutable, Alias("fabric.TransformSettings")]
public sealed record TransformSettings(
    [property: Id(0)] byte[] Module,
    [property: Id(1)] string? Config,
    [property: Id(2)] string? OnError,
    [property: Id(3)] bool KeepOriginal = false);

/// <summary>The answer to attaching a module: what is attached now, or why the module was refused (and nothing changed).</summary>
[GenerateSerializer, Immutable, Alias("fabric.TransformAttach")]
public sealed record TransformAttach(
    [property: Id(0)] TransformView? View,
    [property: Id(1)] string? ProblemCode = null,
    [property: Id(2)] string? ProblemDetail = null,
    [property: Id(3)] bool Unprocessable = false);

/// <summary>An attached module as the admin API shows it: its identity, settings, counters and its last errors and log lines.</summary>
/// <param name="Hash"><c>sha256:</c> and the hex SHA-256 of the module's bytes.</param>
/// <param name="Size">The module's size in bytes.</param>
/// <param name="Config">The config JSON handed to <c>init</c>.</param>
/// <param name="OnError"><c>keep</c>, <c>drop</c> or <c>reject</c>.</param>
/// <param name="KeepOriginal">Whether the payload as received is kept too (ingest).</param>
/// <param name="Attached">When this module was attached.</param>
/// <param name="Counters">Calls and outcomes since the module was loaded by the grain's current activation.</param>
/// <param name="RecentErrors">The newest errors first: kind, trap message and event id — never the payload.</param>
/// <param name="Logs">The newest <c>fabric.log</c> lines first.</param>
[GenerateSerializer, Immutable, Alias("fabric.TransformView")]
public sealed record TransformView(
    [property: Id(0)] string Hash,
    [property: Id(1)] int Size,
    [property: Id(2)] string Config,
    [property: Id(3)] string OnError,
    [property: Id(4)] bool KeepOriginal,
    [property: Id(5)] DateTimeOffset Attached,
    [property: Id(6)] TransformCountersView Counters,
    [property: Id(7)] IReadOnlyList<TransformErrorView> RecentErrors,
    [property: Id(8)] IReadOnlyList<TransformLogView> Logs);

/// <summary>Calls since <paramref name="Since"/>: kept, dropped, replaced (type or data changed), errors, the fuel they used and the time spent in the module (µs).</summary>
[GenerateSerializer, Immutable, Alias("fabric.TransformCountersView")]
public sealed record TransformCountersView(
    [property: Id(0)] long Calls,
    [property: Id(1)] long Kept,
    [property: Id(2)] long Dropped,
    [property: Id(3)] long Replaced,
    [property: Id(4)] long Errors,
    [property: Id(5)] long Fuel,
    [property: Id(6)] DateTimeOffset Since,
    [property: Id(7)] long Micros = 0);

/// <summary>One failed call: its kind (fuel, deadline, trap, result, output, init), the trap message and the event's id.</summary>
[GenerateSerializer, Immutable, Alias("fabric.TransformErrorView")]
public sealed record TransformErrorView(
    [property: Id(0)] DateTimeOffset Time,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Message,
    [property: Id(3)] string? EventId);

/// <summary>One line a module wrote with <c>fabric.log</c>.</summary>
[GenerateSerializer, Immutable, Alias("fabric.TransformLogView")]
public sealed record TransformLogView(
    [property: Id(0)] DateTimeOffset Time,
    [property: Id(1)] string Level,
    [property: Id(2)] string Message);
