using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Fabric.Rules.Wasm;
using Microsoft.Extensions.Options;
using Wasmtime;

namespace Fabric.Wasm;

/// <summary>
/// One Wasmtime engine for the process: fuel metering and epoch interruption on, compiled modules cached by hash (a
/// module attached to many customers, or reloaded by a new activation, is compiled once), and the timer that advances
/// the epoch. Thread-safe; the sandboxes it makes are not (each belongs to one grain activation).
/// </summary>
public sealed class WasmRuntime : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Module>> _modules = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _compiledOrder = new();
    private readonly Timer _epoch;

    public WasmRuntime(IOptions<WasmOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Value;
        using var config = new Config()
            .WithFuelConsumption(true)
            .WithEpochInterruption(true)
            // Reserve address space for the largest memory a module may have, not Wasmtime's 4 GiB default: thousands of
            // warm instances (one per active customer) must fit in the process's address space.
            .WithStaticMemoryMaximumSize((ulong)Options.MaxMemoryBytes)
            .WithWasmThreads(false);
        Engine = new Engine(config);
        Linker = new Linker(Engine);
        Linker.DefineFunction(ModuleCheck.LogModule, ModuleCheck.LogName, (Caller caller, int level, int ptr, int len) =>
        {
            if (caller.GetData() is LogSink sink && caller.GetMemory("memory") is { } memory && ptr >= 0 && len >= 0 && (long)ptr + len <= memory.GetLength())
            {
                sink.Write(level, memory.GetSpan(ptr, Math.Min(len, Options.MaxMessageBytes)));
            }
        });
        _epoch = new Timer(_ => Engine.IncrementEpoch(), null, Options.EpochTick, Options.EpochTick);
    }

    public WasmOptions Options { get; }

    internal Engine Engine { get; }

    internal Linker Linker { get; }

    /// <summary>Epoch ticks a call may last: its deadline rounded up, plus the tick already under way.</summary>
    internal ulong DeadlineTicks => (ulong)Math.Ceiling(Options.Deadline / Options.EpochTick) + 1;

    /// <summary><c>sha256:</c> and the hex SHA-256 of a module's bytes: its identity in the cache and in the admin API.</summary>
    public static string Hash(ReadOnlySpan<byte> module) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(module));

    /// <summary>
    /// Checks a module against the limits and ABI v1, compiles it (or takes it from the cache) and runs its <c>init</c>
    /// once with the config in a sandbox, which the caller keeps as its warm instance. CPU-bound (compiling takes
    /// milliseconds): call it off a grain's turn.
    /// </summary>
    public Prepared Prepare(byte[] module, byte[]? config)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (module.Length > Options.MaxModuleBytes)
        {
            return new(null, new("module-too-large", $"The module is {module.Length} bytes; the largest accepted is {Options.MaxModuleBytes} (Fabric:Wasm:MaxModuleBytes)."));
        }

        if (config is not null && ConfigProblem(config) is { } bad)
        {
            return new(null, bad);
        }

        var hash = Hash(module);
        Module compiled;
        try
        {
            compiled = Compile(hash, module);
        }
        catch (WasmtimeException ex)
        {
            return new(null, new("invalid-module", "The bytes are not a valid WebAssembly module: " + Sandbox.Cut(ex.Message, 300)));
        }

        if (ModuleCheck.Check(compiled) is { } problem)
        {
            return new(null, problem);
        }

        var module1 = new CompiledModule(hash, module.Length, compiled, config ?? "{}"u8.ToArray(), ModuleCheck.HasInit(compiled), ModuleCheck.InitReturnsStatus(compiled));
        try
        {
            var sandbox = Sandbox.Create(this, module1, new LogSink(Options));
            return new(new(module1, sandbox), null);
        }
        catch (SandboxException ex)
        {
            return new(null, new("transform-init-failed", $"The module could not start ({ex.Kind}): {ex.Message}"));
        }
    }

    /// <summary>Compiles a module already checked at upload (a reactivation loading what was attached before).</summary>
    public CompiledModule Load(string hash, byte[] module, byte[]? config)
    {
        var compiled = Compile(hash, module);
        return new CompiledModule(hash, module.Length, compiled, config ?? "{}"u8.ToArray(), ModuleCheck.HasInit(compiled), ModuleCheck.InitReturnsStatus(compiled));
    }

    private Module Compile(string hash, byte[] bytes)
    {
        var lazy = _modules.GetOrAdd(hash, h => new Lazy<Module>(() =>
        {
            WasmTelemetry.Compiles.Add(1);
            var module = Module.FromBytes(Engine, h, bytes);
            _compiledOrder.Enqueue(h);
            return module;
        }));
        try
        {
            var module = lazy.Value;
            // Oldest compiled goes first. Instances keep their own reference: an evicted module in use keeps working,
            // and is compiled again only if another activation loads it.
            while (_modules.Count > Options.CachedModules && _compiledOrder.TryDequeue(out var oldest))
            {
                _modules.TryRemove(oldest, out _);
            }

            return module;
        }
        catch
        {
            // A module that does not compile is not remembered: the next upload gets the same answer, not a cached one.
            _modules.TryRemove(new KeyValuePair<string, Lazy<Module>>(hash, lazy));
            throw;
        }
    }

    private ModuleProblem? ConfigProblem(byte[] config)
    {
        if (config.Length > Options.MaxConfigBytes)
        {
            return new("invalid-config", $"The config is {config.Length} bytes; the largest accepted is {Options.MaxConfigBytes} (Fabric:Wasm:MaxConfigBytes).");
        }

        try
        {
            using var document = JsonDocument.Parse(config);
            return document.RootElement.ValueKind == JsonValueKind.Object ? null : new("invalid-config", "The config must be a JSON object.");
        }
        catch (JsonException)
        {
            return new("invalid-config", "The config is not valid JSON.");
        }
    }

    public void Dispose()
    {
        _epoch.Dispose();
        Linker.Dispose();
        Engine.Dispose();
    }

    /// <summary>What <see cref="Prepare"/> made: a module with its first sandbox, or why it was refused.</summary>
    public sealed record Prepared(PreparedModule? Module, ModuleProblem? Problem);
}

/// <summary>A compiled module with its config and a warm sandbox, ready to become an attachment's <see cref="Transform"/>.</summary>
public sealed record PreparedModule(CompiledModule Module, Sandbox Sandbox);

/// <summary>A compiled module and the config its <c>init</c> receives.</summary>
public sealed record CompiledModule(string Hash, int Size, Module Module, byte[] Config, bool HasInit, bool InitReturnsStatus);
