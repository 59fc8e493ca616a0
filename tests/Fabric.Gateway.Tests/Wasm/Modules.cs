using System.Net.Http.Headers;
using System.Text;

namespace Fabric.Gateway.Tests.Wasm;

/// <summary>
/// Modules for the tests: small ones written in the WebAssembly text format (turned into binary by Wasmtime's own
/// <c>wat2wasm</c>), and the two examples of examples/wasm built by its build script (AssemblyScript and C).
/// </summary>
internal static class Modules
{
    public static byte[] FromText(string wat) => Wasmtime.Module.ConvertText(wat).ToArray();

    /// <summary>A module whose <c>handle</c> body is <paramref name="handle"/>; <c>alloc</c> hands out 4096 onward, growing memory as needed.</summary>
    public static byte[] With(string handle, string extra = "", string imports = "", int pages = 2) => FromText($$"""
        (module
          {{imports}}
          (memory (export "memory") {{pages}})
          (func (export "alloc") (param $len i32) (result i32)
            (local $need i32)
            (local.set $need (i32.add (i32.const 4096) (local.get $len)))
            (if (i32.gt_u (local.get $need) (i32.mul (memory.size) (i32.const 65536)))
              (then (drop (memory.grow (i32.add (i32.div_u (local.get $need) (i32.const 65536)) (i32.const 1))))))
            (i32.const 4096))
          (func (export "handle") (param $ptr i32) (param $len i32) (result i64) {{handle}})
          {{extra}})
        """);

    public static byte[] Keep { get; } = With("(i64.const 1)");

    public static byte[] Drop { get; } = With("(i64.const 0)");

    /// <summary>Returns <paramref name="json"/> (kept in a data segment at 16) as its result for every event.</summary>
    public static byte[] Returning(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var escaped = string.Concat(bytes.Select(b => $"\\{b:x2}"));
        return With($"(i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const {bytes.Length}))", $"(data (i32.const 16) \"{escaped}\")");
    }

    /// <summary>
    /// <c>init</c> keeps its config after <c>{"data":</c> at 2048, and <c>handle</c> returns <c>{"data": config}</c>: the
    /// config reached <c>init</c> exactly. Logs "configured" through <c>fabric.log</c>.
    /// </summary>
    public static byte[] EchoConfig { get; } = With(
        "(i64.or (i64.shl (i64.const 2048) (i64.const 32)) (i64.extend_i32_u (global.get $out)))",
        """
        (global $out (mut i32) (i32.const 0))
        (data (i32.const 2048) "{\"data\":")
        (data (i32.const 1024) "configured")
        (func (export "init") (param $ptr i32) (param $len i32) (result i32)
          (memory.copy (i32.const 2056) (local.get $ptr) (local.get $len))
          (i32.store8 (i32.add (i32.const 2056) (local.get $len)) (i32.const 125))
          (global.set $out (i32.add (local.get $len) (i32.const 9)))
          (call $log (i32.const 1) (i32.const 1024) (i32.const 10))
          (i32.const 0))
        """,
        imports: """(import "fabric" "log" (func $log (param i32 i32 i32)))""");

    /// <summary>Loops forever: only fuel (or the deadline) stops it.</summary>
    public static byte[] Spin { get; } = With("(loop $l (br $l)) (i64.const 1)");

    /// <summary>Asks for 32 MiB more memory (refused past the limit: memory.grow returns −1) and writes at its end anyway.</summary>
    public static byte[] Grow { get; } = With("(drop (memory.grow (i32.const 512))) (i32.store (i32.const 33554000) (i32.const 1)) (i64.const 1)");

    /// <summary>Claims a 2 MiB result, past the output limit.</summary>
    public static byte[] Huge { get; } = With("(i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 2097152))", pages: 40);

    public static byte[] Negative { get; } = With("(i64.const -1)");

    public static byte[] Trap { get; } = With("(unreachable)");

    /// <summary>Imports WASI's fd_write: refused at upload.</summary>
    public static byte[] ImportsWasi { get; } = With("(i64.const 1)", imports: """(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))""");

    /// <summary>Imports a host function Fabric never defined.</summary>
    public static byte[] ImportsOther { get; } = With("(i64.const 1)", imports: """(import "env" "now" (func (result i64)))""");

    public static byte[] Malformed { get; } = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0xff, 0x13, 0x37];

    /// <summary>The examples built by examples/wasm/build.sh (the test command runs it first).</summary>
    public static byte[] Example(string name)
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Fabric.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("The repository root was not found.");
        }

        var path = Path.Combine(root, "examples", "wasm", "out", name + ".wasm");
        Assert.True(File.Exists(path), $"{path} is missing: run examples/wasm/build.sh (scripts/test does).");
        return File.ReadAllBytes(path);
    }

    public static ByteArrayContent Content(byte[] module)
    {
        var content = new ByteArrayContent(module);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/wasm");
        return content;
    }
}
