using Wasmtime;

namespace Fabric.Wasm;

/// <summary>
/// ABI v1 as a module declares it (docs/wasm.md): no import but <c>fabric.log(i32, i32, i32)</c> — no WASI, no host
/// function Fabric did not write — and the exports <c>memory</c>, <c>alloc(i32) → i32</c>, <c>handle(i32, i32) → i64</c>
/// and optionally <c>init(i32, i32)</c> (returning nothing or an i32).
/// </summary>
internal static class ModuleCheck
{
    public const string LogModule = "fabric";
    public const string LogName = "log";

    public static ModuleProblem? Check(Module module)
    {
        foreach (var import in module.Imports)
        {
            var isLog = import is FunctionImport f && import.ModuleName == LogModule && import.Name == LogName
                && f.Parameters.SequenceEqual([ValueKind.Int32, ValueKind.Int32, ValueKind.Int32]) && f.Results.Count == 0;
            if (!isLog)
            {
                return new("module-imports", $"The module imports '{Cut(import.ModuleName)}.{Cut(import.Name)}'; the only import allowed is fabric.log(i32 level, i32 ptr, i32 len).");
            }
        }

        var exports = module.Exports.GroupBy(e => e.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        if (!exports.TryGetValue("memory", out var memory) || memory is not MemoryExport { Is64Bit: false })
        {
            return new("module-exports", "The module must export its 32-bit linear memory as 'memory'.");
        }

        if (!IsFunction(exports, "alloc", [ValueKind.Int32], [ValueKind.Int32]))
        {
            return new("module-exports", "The module must export alloc(i32 len) -> i32.");
        }

        if (!IsFunction(exports, "handle", [ValueKind.Int32, ValueKind.Int32], [ValueKind.Int64]))
        {
            return new("module-exports", "The module must export handle(i32 ptr, i32 len) -> i64.");
        }

        if (exports.ContainsKey("init") && !IsFunction(exports, "init", [ValueKind.Int32, ValueKind.Int32], [ValueKind.Int32])
            && !IsFunction(exports, "init", [ValueKind.Int32, ValueKind.Int32], []))
        {
            return new("module-exports", "An exported init must be init(i32 ptr, i32 len) with no result or an i32.");
        }

        return null;
    }

    /// <summary>Whether the module exports an <c>init</c> that returns a status.</summary>
    public static bool InitReturnsStatus(Module module) =>
        module.Exports.OfType<FunctionExport>().Any(e => e.Name == "init" && e.Results.Count == 1);

    public static bool HasInit(Module module) => module.Exports.OfType<FunctionExport>().Any(e => e.Name == "init");

    private static bool IsFunction(Dictionary<string, Export> exports, string name, ValueKind[] parameters, ValueKind[] results) =>
        exports.TryGetValue(name, out var export) && export is FunctionExport f && f.Parameters.SequenceEqual(parameters) && f.Results.SequenceEqual(results);

    // Names come from the customer's bytes: bounded before they reach an answer.
    private static string Cut(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
