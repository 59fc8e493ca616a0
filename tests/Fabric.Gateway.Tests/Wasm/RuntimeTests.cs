using Fabric.Rules.Wasm;
using Fabric.Wasm;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Tests.Wasm;

/// <summary>The runtime alone: the wall-clock deadline stops what fuel would not, and a fresh instance follows any error.</summary>
public sealed class RuntimeTests
{
    private static readonly TransformInput Input = new("evt_1", 1, "t", "test", DateTimeOffset.UnixEpoch, "{}"u8.ToArray(), true);

    [Fact]
    public void A_loop_with_fuel_to_spare_is_stopped_by_the_epoch_deadline_and_the_next_event_gets_a_fresh_instance()
    {
        using var runtime = new WasmRuntime(Options.Create(new WasmOptions { FuelPerCall = 10_000_000_000, Deadline = TimeSpan.FromMilliseconds(30) }));
        var prepared = runtime.Prepare(Modules.Spin, null);
        Assert.Null(prepared.Problem);
        using var transform = new Transform(runtime, prepared.Module!, ErrorPolicy.Keep, TransformStage.Ingest, TimeProvider.System);

        var outcome = transform.Apply(Input);
        Assert.Equal((TransformAction.Error, TransformAction.Keep, "deadline"), (outcome.Action, outcome.Resolved, outcome.Error!.Kind));
        Assert.Equal("deadline", transform.Apply(Input).Error!.Kind);
        Assert.Equal(2, transform.Counters.Errors);
    }

    [Fact]
    public void A_module_attached_twice_is_compiled_once_and_each_attachment_has_its_own_instance()
    {
        using var runtime = new WasmRuntime(Options.Create(new WasmOptions()));
        var first = runtime.Prepare(Modules.EchoConfig, """{"n":1}"""u8.ToArray());
        var second = runtime.Prepare(Modules.EchoConfig, """{"n":2}"""u8.ToArray());
        Assert.Same(first.Module!.Module.Module, second.Module!.Module.Module);
        using var a = new Transform(runtime, first.Module, ErrorPolicy.Keep, TransformStage.Ingest, TimeProvider.System);
        using var b = new Transform(runtime, second.Module, ErrorPolicy.Keep, TransformStage.Ingest, TimeProvider.System);
        Assert.Equal("""{"n":1}""", System.Text.Encoding.UTF8.GetString(a.Apply(Input).Data!));
        Assert.Equal("""{"n":2}""", System.Text.Encoding.UTF8.GetString(b.Apply(Input).Data!));
    }
}
