namespace Fabric.Gateway.Embedded;

/// <summary>The co-hosted silo of embedded mode. Bound from <c>Fabric:Embedded</c>.</summary>
public sealed class EmbeddedSiloOptions
{
    public const string SectionName = "Fabric:Embedded";

    /// <summary>Silo-to-silo port of the co-hosted silo. Default 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Orleans client port of the co-hosted silo (for tools and a standalone client). Default 30000.</summary>
    public int GatewayPort { get; set; } = 30000;
}
