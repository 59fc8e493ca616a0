using System.Reflection;
using System.Text.Json;
using ArchUnitNET.Domain;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;
using static ArchUnitNET.Fluent.Slices.SliceRuleDefinition;

namespace Fabric.Gateway.Tests.Architecture;

/// <summary>
/// The shape of the code, read from its compiled assemblies: the gateway's namespaces form no cycle (the order is
/// Telemetry, Http ← Customers ← Events ← the features, Hosting on top), nor do the grain projects', and no gateway
/// type reaches into a grain.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly System.Reflection.Assembly Gateway = typeof(Program).Assembly;

    private static readonly ArchUnitNET.Domain.Architecture Code = new ArchLoader()
        .LoadAssemblies(Gateway, typeof(Fabric.Grains.FabricTime).Assembly, typeof(Fabric.Outbound.OutboundTelemetry).Assembly)
        .Build();

    [Fact]
    public void The_gateways_namespaces_form_no_cycle() =>
        Slices().Matching("Fabric.Gateway.(**)").Should().BeFreeOfCycles().Check(Code);

    [Theory]
    [InlineData("Fabric.Grains.(**)")]
    [InlineData("Fabric.Outbound.(**)")]
    public void The_grain_projects_namespaces_form_no_cycle(string namespaces) =>
        Slices().Matching(namespaces).Should().BeFreeOfCycles().Check(Code);

    [Fact]
    public void No_gateway_type_depends_on_a_grain_implementation() =>
        Types().That().ResideInAssembly(Gateway).Should()
            .NotDependOnAny(Classes().That().AreAssignableTo(typeof(Orleans.Grain)))
            .Check(Code);

    // What a distributed gateway must not carry: the grain implementations and the Wasm runtime under them.
    private static readonly string[] GrainStack = ["Fabric.Grains", "Fabric.Grains.Redis", "Fabric.Outbound", "Fabric.Wasm", "Wasmtime.Dotnet"];

    [Fact]
    public void The_gateway_references_no_grain_implementation_and_names_none_as_an_Orleans_application_part()
    {
        // Orleans loads every assembly the running ones name as an application part, so a name here would load it.
        Assert.Empty(Gateway.GetReferencedAssemblies().Select(a => a.Name).Intersect(GrainStack));
        Assert.Empty(Gateway.GetCustomAttributes<Orleans.ApplicationPartAttribute>().Select(a => a.AssemblyName).Intersect(GrainStack));
    }

    [Fact]
    public void The_distributed_gateways_build_ships_no_grain_implementation_nor_Wasmtime()
    {
        // The gateway's own deps.json is what the runtime resolves assemblies from when it runs alone (distributed).
        var output = new DirectoryInfo(AppContext.BaseDirectory);
        var (framework, configuration, root) = (output.Name, output.Parent!.Name, output.Parent.Parent!.Parent!.Parent!.Parent!.FullName);
        var deps = Path.Combine(root, "gateway", "Fabric.Gateway", "bin", configuration, framework, "Fabric.Gateway.deps.json");
        using var json = JsonDocument.Parse(File.ReadAllText(deps));
        var libraries = json.RootElement.GetProperty("libraries").EnumerateObject().Select(l => l.Name.Split('/')[0]).ToArray();

        Assert.Contains("Fabric.Contracts", libraries);
        Assert.Empty(libraries.Intersect(GrainStack.Append("Wasmtime")));
    }
}
