namespace Fabric.Silo;

/// <summary>Where the standalone silo listens. Bound from <c>Fabric:Silo</c>.</summary>
public sealed class SiloOptions
{
    public const string SectionName = "Fabric:Silo";

    /// <summary>Silo-to-silo port. Default 11111 (Orleans' own default).</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port gateways (Orleans clients) connect to. Default 30000 (Orleans' own default).</summary>
    public int GatewayPort { get; set; } = 30000;
}
