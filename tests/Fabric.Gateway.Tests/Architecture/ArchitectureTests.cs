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
        .LoadAssemblies(Gateway, typeof(Fabric.Grains.FabricTime).Assembly, typeof(Fabric.Outbound.OutboundOptions).Assembly)
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
}
