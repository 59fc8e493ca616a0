using Fabric.Contracts.Registry;
using Microsoft.Extensions.DependencyInjection;

namespace Fabric.Grains.Registry;

/// <summary>
/// One customer's sources, API keys and signing keys. Reads never write, so asking about a customer that does not exist leaves
/// nothing behind. A change is saved first, then announced on the change feed; if the announcement fails the call
/// fails, and the caller's retry (every change is idempotent, and a removal that finds nothing announces anyway)
/// announces it again.
/// </summary>
internal sealed class CustomerRegistryGrain(
    [PersistentState("registry")] IPersistentState<CustomerRegistration> state,
    [FromKeyedServices(FabricTime.Key)] TimeProvider time) : Grain, ICustomerRegistryGrain
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

    public Task<RegistryResult> PutSource(SourceConfig source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return PutAsync(state.State.Sources, source.Name, source);
    }

    public Task<RegistryResult> RemoveSource(string name) => RemoveAsync(state.State.Sources, name);

    public Task<RegistryResult> AddKey(ApiKeyRecord key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return PutAsync(state.State.Keys, key.Id, key);
    }

    public Task<RegistryResult> RemoveKey(string id) => RemoveAsync(state.State.Keys, id);

    public Task<RegistryResult> AddSigningKey(SigningKeyRecord key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return PutAsync(state.State.SigningKeys, key.Id, key);
    }

    public Task<RegistryResult> RemoveSigningKey(string id) => RemoveAsync(state.State.SigningKeys, id);

    /// <summary>Sources, API keys and signing keys change the same way: only for a registered customer, saved, then announced.</summary>
    private async Task<RegistryResult> PutAsync<T>(Dictionary<string, T> items, string id, T item)
    {
        if (!state.State.Registered)
        {
            return new RegistryResult(RegistryOutcome.UnknownCustomer, null);
        }

        var created = !items.ContainsKey(id);
        items[id] = item;
        return await SaveAsync(created ? RegistryOutcome.Created : RegistryOutcome.Updated);
    }

    private async Task<RegistryResult> RemoveAsync<T>(Dictionary<string, T> items, string id)
    {
        if (!state.State.Registered)
        {
            return new RegistryResult(RegistryOutcome.UnknownCustomer, null);
        }

        return items.Remove(id)
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
