using System.Diagnostics.Metrics;

namespace Fabric.Wasm;

/// <summary>The Meter of customers' modules (<c>Fabric.Wasm</c>). Tagged by where a module runs (ingest, outbound), never by customer.</summary>
public static class WasmTelemetry
{
    public const string Name = "Fabric.Wasm";

    private static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Calls = Meter.CreateCounter<long>("fabric.wasm.calls", description: "handle calls, by stage and outcome (keep, drop, replace, error).");
    internal static readonly Counter<long> Errors = Meter.CreateCounter<long>("fabric.wasm.errors", description: "Failed calls, by stage and kind (fuel, deadline, trap, result, output, init).");
    internal static readonly Histogram<long> Fuel = Meter.CreateHistogram<long>("fabric.wasm.fuel", description: "Fuel one handle call used.");
    internal static readonly Counter<long> Compiles = Meter.CreateCounter<long>("fabric.wasm.compiles", description: "Modules compiled (a cache miss by hash).");
}
