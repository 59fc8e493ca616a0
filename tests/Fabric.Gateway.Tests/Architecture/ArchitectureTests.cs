using ArchUnitNET.Domain;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;
using static ArchUnitNET.Fluent.Slices.SliceRuleDefinition;

namespace Fabric.Gateway.Tests.Architecture;

/// <summary>
/// The gateway's shape, read from its compiled code: its namespaces form no cycle (the order is
/// Telemetry, Http ← Customers ← Events ← the features, Hosting on top), and no gateway type reaches into a grain.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly System.Reflection.Assembly Gateway = typeof(Program).Assembly;

    private static readonly ArchUnitNET.Domain.Architecture Code = new ArchLoader()
        .LoadAssemblies(Gateway, typeof(Fabric.Grains.FabricTime).Assembly, typeof(Fabric.Outbound.OutboundOptions).Assembly)
        .Build();

    [Fact]
    public void The_gateways_namespaces_form_no_cycle() =>
        Slices().Matching("Fabric.Gateway.(**)").Should().BeFreeOfCycles().Check(Code);

    [Fact]
    public void No_gateway_type_depends_on_a_grain_implementation() =>
        Types().That().ResideInAssembly(Gateway).Should()
            .NotDependOnAny(Classes().That().AreAssignableTo(typeof(Orleans.Grain)))
            .Check(Code);
}
