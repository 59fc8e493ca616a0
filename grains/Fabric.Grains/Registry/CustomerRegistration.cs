using Fabric.Contracts.Registry;

namespace Fabric.Grains.Registry;

/// <summary>The registry grain's persisted state. Empty (<see cref="Registered"/> false) for a customer never registered.</summary>
[GenerateSerializer, Alias("fabric.CustomerRegistration")]
internal sealed class CustomerRegistration
{
    [Id(0)] public bool Registered { get; set; }

    [Id(1)] public string? Name { get; set; }

    [Id(2)] public long Version { get; set; }

    [Id(3)] public DateTimeOffset Created { get; set; }

    [Id(4)] public Dictionary<string, SourceConfig> Sources { get; set; } = new(StringComparer.Ordinal);

    [Id(5)] public Dictionary<string, ApiKeyRecord> Keys { get; set; } = new(StringComparer.Ordinal);

    [Id(6)] public Dictionary<string, SigningKeyRecord> SigningKeys { get; set; } = new(StringComparer.Ordinal);
}
