using Fabric.Contracts.Registry;
using Microsoft.Extensions.DependencyInjection;

namespace Fabric.Grains.Registry;

/// <summary>
/// One customer's sources and API keys. Reads never write, so asking about a customer that does not exist leaves
/// nothing behind. A change is saved first, then announced on the change feed; if the announcement fails the call
/// fails, and the caller's retry (every change is idempotent, and a removal that finds nothing announces anyway)
/// announces it again.
/// </summary>
internal sealed class CustomerRegistryGrain(
    [PersistentState("registry")] IPersistentState<CustomerRegistration> state,
    [FromKeyedServices(Customers.FabricTime.Key)] TimeProvider time) : Grain, ICustomerRegistryGrain
{
    private CustomerConfig? _snapshot;

    private string Customer => this.GetPrimaryKeyString();

    public Task<CustomerConfig?> GetConfig() => Task.FromResult(Snapshot());

    public async Task<RegistryResult> Put(string? name)
    {
        var created = !state.State.Registered;
        if (created)
        {
            state.State.Registered = true;
            state.State.Created = time.GetUtcNow();
        }
        else if (name is null || name == state.State.Name)
        {
            // Nothing to change: a repeated PUT writes nothing, but makes sure a failed first PUT reached the index.
            await GrainFactory.GetGrain<ICustomerIndexGrain>(0).Add(Customer);
            return new RegistryResult(RegistryOutcome.Updated, Snapshot());
        }

        state.State.Name = name ?? state.State.Name;
        var result = await SaveAsync(created ? RegistryOutcome.Created : RegistryOutcome.Updated);
        await GrainFactory.GetGrain<ICustomerIndexGrain>(0).Add(Customer);
        return result;
    }

    public async Task<RegistryResult> PutSource(SourceConfig source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!state.State.Registered)
        {
            return new RegistryResult(RegistryOutcome.UnknownCustomer, null);
        }

        var created = !state.State.Sources.ContainsKey(source.Name);
        state.State.Sources[source.Name] = source;
        return await SaveAsync(created ? RegistryOutcome.Created : RegistryOutcome.Updated);
    }

    public async Task<RegistryResult> RemoveSource(string name)
    {
        if (!state.State.Registered)
        {
            return new RegistryResult(RegistryOutcome.UnknownCustomer, null);
        }

        return state.State.Sources.Remove(name)
            ? await SaveAsync(RegistryOutcome.Removed)
            : await AnnounceAsync(RegistryOutcome.NotFound);
    }

    public async Task<RegistryResult> AddKey(ApiKeyRecord key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!state.State.Registered)
        {
            return new RegistryResult(RegistryOutcome.UnknownCustomer, null);
        }

        state.State.Keys[key.Id] = key;
        return await SaveAsync(RegistryOutcome.Created);
    }

    public async Task<RegistryResult> RemoveKey(string id)
    {
        if (!state.State.Registered)
        {
            return new RegistryResult(RegistryOutcome.UnknownCustomer, null);
        }

        return state.State.Keys.Remove(id)
            ? await SaveAsync(RegistryOutcome.Removed)
            : await AnnounceAsync(RegistryOutcome.NotFound);
    }

    public async Task<RegistryResult> AddSigningKey(SigningKeyRecord key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!state.State.Registered)
        {
            return new RegistryResult(RegistryOutcome.UnknownCustomer, null);
        }

        state.State.SigningKeys[key.Id] = key;
        return await SaveAsync(RegistryOutcome.Created);
    }

    public async Task<RegistryResult> RemoveSigningKey(string id)
    {
        if (!state.State.Registered)
        {
            return new RegistryResult(RegistryOutcome.UnknownCustomer, null);
        }

        return state.State.SigningKeys.Remove(id)
            ? await SaveAsync(RegistryOutcome.Removed)
            : await AnnounceAsync(RegistryOutcome.NotFound);
    }

    private async Task<RegistryResult> SaveAsync(RegistryOutcome outcome)
    {
        state.State.Version++;
        _snapshot = null;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // What is in memory may not be what is stored: read it back on the next activation.
            DeactivateOnIdle();
            throw;
        }

        return await AnnounceAsync(outcome);
    }

    /// <summary>
    /// Tells the gateways. Also done when a removal finds nothing to remove: that may be the retry of a removal whose
    /// announcement failed, and a revoked key must not stay valid on other gateways because the first try timed out.
    /// </summary>
    private async Task<RegistryResult> AnnounceAsync(RegistryOutcome outcome)
    {
        await GrainFactory.GetGrain<IRegistryChangesGrain>(0).Changed(Customer);
        return new RegistryResult(outcome, Snapshot());
    }

    private CustomerConfig? Snapshot()
    {
        if (!state.State.Registered)
        {
            return null;
        }

        // Copies, so later changes never alter a snapshot already handed out (in embedded mode it is not serialized).
        return _snapshot ??= new CustomerConfig(
            Customer,
            state.State.Name,
            state.State.Version,
            state.State.Created,
            new Dictionary<string, SourceConfig>(state.State.Sources, StringComparer.Ordinal),
            new Dictionary<string, ApiKeyRecord>(state.State.Keys, StringComparer.Ordinal),
            new Dictionary<string, SigningKeyRecord>(state.State.SigningKeys, StringComparer.Ordinal));
    }
}
