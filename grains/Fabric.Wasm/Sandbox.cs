using Wasmtime;

namespace Fabric.Wasm;

/// <summary>
/// One instance of a module in its own store: memory capped, fuel refilled and an epoch deadline set before every call.
/// Not thread-safe (Wasmtime's store is not): it belongs to one grain activation and is called on its turn. After any
/// error the owner throws it away and starts a fresh one — a trapped instance's memory is in an unknown state.
/// </summary>
public sealed class Sandbox : IDisposable
{
    private readonly WasmRuntime _runtime;
    private readonly Store _store;
    private readonly Memory _memory;
    private readonly Func<int, int> _alloc;
    private readonly Func<int, int, long> _handle;

    private Sandbox(WasmRuntime runtime, CompiledModule module, LogSink sink)
    {
        _runtime = runtime;
        Module = module;
        Sink = sink;
        _store = new Store(runtime.Engine, sink);
        try
        {
            _store.SetLimits(memorySize: runtime.Options.MaxMemoryBytes, tableElements: 100_000, instances: 1, tables: 4, memories: 1);
            // A start function runs at instantiation: it gets init's budget.
            Refuel(runtime.Options.FuelPerCall * 10);
            var instance = Guard(() => runtime.Linker.Instantiate(_store, module.Module));
            _memory = instance.GetMemory("memory") ?? throw new SandboxException("exports", "The module exports no memory.");
            _alloc = instance.GetFunction<int, int>("alloc") ?? throw new SandboxException("exports", "alloc(i32) -> i32 is missing.");
            _handle = instance.GetFunction<int, int, long>("handle") ?? throw new SandboxException("exports", "handle(i32, i32) -> i64 is missing.");
            if (module.HasInit)
            {
                Init(instance, module);
            }
        }
        catch
        {
            _store.Dispose();
            throw;
        }
    }

    public CompiledModule Module { get; }

    public LogSink Sink { get; }

    /// <summary>Fuel the last call used (alloc and handle together).</summary>
    public long LastFuel { get; private set; }

    internal static Sandbox Create(WasmRuntime runtime, CompiledModule module, LogSink sink)
    {
        try
        {
            return new Sandbox(runtime, module, sink);
        }
        catch (SandboxException)
        {
            throw;
        }
        catch (Exception ex) when (ex is WasmtimeException or ArgumentException or InvalidOperationException)
        {
            throw new SandboxException("instantiate", Cut(ex.Message, 300));
        }
    }

    private void Init(Instance instance, CompiledModule module)
    {
        var config = module.Config;
        var ptr = Guard(() => _alloc(config.Length));
        config.CopyTo(Span(ptr, config.Length, "init config"));
        if (module.InitReturnsStatus)
        {
            var init = instance.GetFunction<int, int, int>("init")!;
            var status = Guard(() => init(ptr, config.Length));
            if (status < 0)
            {
                throw new SandboxException("init", $"init returned {status}: the module refused its config.");
            }
        }
        else
        {
            var init = instance.GetAction<int, int>("init")!;
            Guard(() => init(ptr, config.Length));
        }
    }

    /// <summary>
    /// One event through <c>alloc</c> and <c>handle</c>. Returns the raw result; <paramref name="memory"/> is the module's
    /// memory after the call, for reading a result it points to. Throws <see cref="SandboxException"/> on a trap,
    /// exhausted fuel or a passed deadline.
    /// </summary>
    public long Call(ReadOnlySpan<byte> input, out Memory memory)
    {
        Refuel(_runtime.Options.FuelPerCall);
        var length = input.Length;
        try
        {
            var ptr = Guard(() => _alloc(length));
            input.CopyTo(Span(ptr, length, "input"));
            var result = Guard(() => _handle(ptr, length));
            memory = _memory;
            return result;
        }
        finally
        {
            LastFuel = _runtime.Options.FuelPerCall - (long)_store.Fuel;
        }
    }

    /// <summary>Bytes of the module's memory, bounds-checked: a module cannot make the host read or write outside it.</summary>
    internal Span<byte> Span(int ptr, int length, string what)
    {
        if (ptr < 0 || length < 0 || (long)ptr + length > _memory.GetLength())
        {
            throw new SandboxException("result", $"The {what} range [{ptr}, +{length}) is outside the module's memory.");
        }

        return _memory.GetSpan(ptr, length);
    }

    private void Refuel(long fuel)
    {
        _store.Fuel = (ulong)fuel;
        _store.SetEpochDeadline(_runtime.DeadlineTicks);
    }

    private static T Guard<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (TrapException trap)
        {
            throw Classify(trap);
        }
        catch (WasmtimeException ex)
        {
            throw new SandboxException("trap", Cut(ex.Message, 300));
        }
    }

    private static void Guard(Action call) => Guard(() =>
    {
        call();
        return 0;
    });

    private static SandboxException Classify(TrapException trap) => trap.Type switch
    {
        TrapCode.OutOfFuel => new SandboxException("fuel", "The call ran out of fuel (Fabric:Wasm:FuelPerCall)."),
        TrapCode.Interrupt => new SandboxException("deadline", "The call passed its deadline (Fabric:Wasm:Deadline)."),
        _ => new SandboxException("trap", Cut(FirstLine(trap.Message), 300)),
    };

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    internal static string Cut(string value, int max) => value.Length <= max ? value : value[..max] + "…";

    public void Dispose() => _store.Dispose();
}

/// <summary>A call into a module failed. <see cref="Kind"/>: fuel, deadline, trap, result, output, init, instantiate or exports.</summary>
public sealed class SandboxException : Exception
{
    public SandboxException()
    {
        Kind = "trap";
    }

    public SandboxException(string message) : base(message)
    {
        Kind = "trap";
    }

    public SandboxException(string message, Exception innerException) : base(message, innerException)
    {
        Kind = "trap";
    }

    public SandboxException(string kind, string message) : base(message)
    {
        Kind = kind;
    }

    public string Kind { get; }
}
