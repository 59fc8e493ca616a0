using System.Net;

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

    /// <summary>
    /// The address the silo and gateway ports bind to in distributed mode. Both give full access to the cluster with no
    /// authentication, so bind them to the private network's interface only. Default: <see cref="AdvertisedIP"/> when
    /// set, else every interface (0.0.0.0: right in a container, whose network is private by construction).
    /// </summary>
    public string? ListenAddress { get; set; }

    /// <summary>
    /// Where the silo serves HTTP (<c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>, the dashboard) when no
    /// <c>--urls</c>/<c>ASPNETCORE_URLS</c> is given. Default http://127.0.0.1:8081.
    /// </summary>
    public string HealthUrl { get; set; } = "http://127.0.0.1:8081";

    /// <summary><see cref="AdvertisedIP"/> parsed, or null when unset.</summary>
    public IPAddress? AdvertisedAddress() => Parse(AdvertisedIP, nameof(AdvertisedIP));

    /// <summary>What the ports bind to: <see cref="ListenAddress"/>, else <see cref="AdvertisedIP"/>, else every interface.</summary>
    public IPAddress ListeningAddress() => Parse(ListenAddress, nameof(ListenAddress)) ?? AdvertisedAddress() ?? IPAddress.Any;

    private static IPAddress? Parse(string? value, string name) =>
        string.IsNullOrWhiteSpace(value) ? null
        : IPAddress.TryParse(value, out var address) ? address
        : throw new InvalidOperationException($"{SectionName}:{name} '{value}' is not an IP address.");
}
