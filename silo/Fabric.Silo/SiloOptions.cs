namespace Fabric.Silo;

/// <summary>Where the standalone silo listens. Bound from <c>Fabric:Silo</c>.</summary>
public sealed class SiloOptions
{
    public const string SectionName = "Fabric:Silo";

    /// <summary>Silo-to-silo port. Default 11111 (Orleans' own default).</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port gateways (Orleans clients) connect to. Default 30000 (Orleans' own default).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// The address other silos and gateways reach this one at, e.g. 127.0.0.1 for several silos on one machine.
    /// Default: unset, the address the host name resolves to (right in a container).
    /// </summary>
    public string? AdvertisedIP { get; set; }

    /// <summary>Where <c>/healthz</c> is served when no <c>--urls</c>/<c>ASPNETCORE_URLS</c> is given. Default http://127.0.0.1:8081.</summary>
    public string HealthUrl { get; set; } = "http://127.0.0.1:8081";
}
