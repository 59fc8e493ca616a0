namespace Fabric.Contracts.Registry;

/// <summary>
/// A customer's registration: its sources and API keys. Keyed by customer id. Every change is announced on the
/// <see cref="IRegistryChangesGrain"/>, which gateways poll to drop what they cached.
/// </summary>
[Alias("fabric.ICustomerRegistryGrain")]
public interface ICustomerRegistryGrain : IGrainWithStringKey
{
    /// <summary>Returns the configuration, or null when the customer is not registered (nothing is written).</summary>
    [Alias("GetConfig")]
    Task<CustomerConfig?> GetConfig();

    /// <summary>Registers the customer, or updates its name when already registered.</summary>
    [Alias("Put")]
    Task<RegistryResult> Put(string? name);

    /// <summary>Creates or replaces a source; replacing its secrets is the rotation step.</summary>
    [Alias("PutSource")]
    Task<RegistryResult> PutSource(SourceConfig source);

    /// <summary>Removes a source.</summary>
    [Alias("RemoveSource")]
    Task<RegistryResult> RemoveSource(string name);

    /// <summary>Adds an API key.</summary>
    [Alias("AddKey")]
    Task<RegistryResult> AddKey(ApiKeyRecord key);

    /// <summary>Revokes an API key.</summary>
    [Alias("RemoveKey")]
    Task<RegistryResult> RemoveKey(string id);

    /// <summary>Adds a key that signs connection tokens.</summary>
    [Alias("AddSigningKey")]
    Task<RegistryResult> AddSigningKey(SigningKeyRecord key);

    /// <summary>Revokes a signing key: tokens it signed no longer open sockets.</summary>
    [Alias("RemoveSigningKey")]
    Task<RegistryResult> RemoveSigningKey(string id);
}

/// <summary>What a registry change did.</summary>
public enum RegistryOutcome
{
    /// <summary>The thing did not exist and now does.</summary>
    Created,

    /// <summary>The thing existed and was replaced.</summary>
    Updated,

    /// <summary>The thing existed and is gone.</summary>
    Removed,

    /// <summary>The customer is registered but the source, key or signing key is not.</summary>
    NotFound,

    /// <summary>The customer is not registered.</summary>
    UnknownCustomer,
}

/// <summary>The answer to a registry change: its outcome and the configuration after it (null for an unknown customer).</summary>
[GenerateSerializer, Immutable, Alias("fabric.RegistryResult")]
public sealed record RegistryResult(
    [property: Id(0)] RegistryOutcome Outcome,
    [property: Id(1)] CustomerConfig? Config);
