using System.ComponentModel.DataAnnotations;

namespace Fabric.Rules.Wasm;

/// <summary>
/// The sandbox every customer module runs in. Bound from <c>Fabric:Wasm</c>; the defaults are in docs/wasm.md. One set
/// for the process: a customer cannot raise its own limits.
/// </summary>
public sealed class WasmOptions
{
    public const string SectionName = "Fabric:Wasm";

    /// <summary>
    /// Fuel for one <c>handle</c> call (about one unit per WebAssembly instruction): the deterministic bound, the same on
    /// every machine. A call that runs out is an error (<c>fuel</c>). Default 10,000,000; <c>init</c> gets ten times that.
    /// </summary>
    [Range(1_000, 10_000_000_000)]
    public long FuelPerCall { get; set; } = 10_000_000;

    /// <summary>
    /// The wall-clock backstop for one call (the engine's epoch deadline), for what fuel bounds poorly: a call that is
    /// cheap in fuel but slow on a loaded machine, or time spent in the host. Rounded up to <see cref="EpochTick"/>.
    /// Default 100 ms.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:10")]
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the engine's epoch advances: the deadline's resolution. Default 10 ms.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:01")]
    public TimeSpan EpochTick { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Largest linear memory a module may grow to; <c>memory.grow</c> past it fails (returns −1). Default 16 MiB.</summary>
    [Range(65_536, 1L << 32)]
    public long MaxMemoryBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest module accepted at upload (the <c>.wasm</c> bytes). Default 1 MiB.</summary>
    [Range(8, 64 * 1024 * 1024)]
    public int MaxModuleBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest result a <c>handle</c> call may return (the JSON it points to). Default 1 MiB.</summary>
    [Range(16, 64 * 1024 * 1024)]
    public int MaxOutputBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest per-attachment config (the JSON handed to <c>init</c>). Default 64 KiB.</summary>
    [Range(2, 16 * 1024 * 1024)]
    public int MaxConfigBytes { get; set; } = 64 * 1024;

    /// <summary>Compiled modules kept per process, by hash: a module used again is not compiled again. Default 256.</summary>
    [Range(1, 100_000)]
    public int CachedModules { get; set; } = 256;

    /// <summary>Errors and <c>fabric.log</c> lines kept per attachment for the admin API (newest first). Default 20 each.</summary>
    [Range(1, 1_000)]
    public int RecentEntries { get; set; } = 20;

    /// <summary>Longest <c>fabric.log</c> line or error message kept; longer ones are cut. Default 256 bytes.</summary>
    [Range(16, 64 * 1024)]
    public int MaxMessageBytes { get; set; } = 256;
}
