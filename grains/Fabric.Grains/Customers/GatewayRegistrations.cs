using Fabric.Contracts;

namespace Fabric.Grains.Customers;

/// <summary>
/// The customer grain's persisted state: which gateways hold its sockets. A grain reactivated on another silo (after a
/// silo loss, or a log failure) restores them and pushes at once, instead of waiting for each gateway's next renewal.
/// Written when a gateway registers, renews with a newer generation, or leaves; cleared when the last one leaves.
/// </summary>
[GenerateSerializer, Alias("fabric.gateway-registrations")]
internal sealed class GatewayRegistrations
{
    [Id(0)]
    public Dictionary<string, GatewayRegistration> Gateways { get; set; } = new(StringComparer.Ordinal);
}

[GenerateSerializer, Immutable, Alias("fabric.gateway-registration")]
internal sealed record GatewayRegistration([property: Id(0)] long Generation, [property: Id(1)] IGatewayObserver Observer);
