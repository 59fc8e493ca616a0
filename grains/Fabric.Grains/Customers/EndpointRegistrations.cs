namespace Fabric.Grains.Customers;

/// <summary>
/// The customer grain's persisted list of outbound endpoints, with each one's cursor as last saved. Written when an
/// endpoint is added or removed; the cursors move in memory (an endpoint reports its progress), so after a
/// reactivation the saved ones hold back the trim a little more than needed until each endpoint reports again.
/// </summary>
[GenerateSerializer, Alias("fabric.endpoint-registrations")]
internal sealed class EndpointRegistrations
{
    [Id(0)]
    public Dictionary<string, long> Cursors { get; set; } = new(StringComparer.Ordinal);
}
