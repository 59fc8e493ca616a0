namespace Fabric.Contracts.Registry;

/// <summary>
/// The cluster's feed of registry changes (key 0): which customers changed, in order. Gateways poll it once a second
/// and drop those customers from their cache, so a revoked key or a removed secret stops working everywhere within
/// about a second, at one call per gateway per second however many customers it caches.
/// </summary>
[Alias("fabric.IRegistryChangesGrain")]
public interface IRegistryChangesGrain : IGrainWithIntegerKey
{
    /// <summary>Records that a customer's configuration changed.</summary>
    [Alias("Changed")]
    Task Changed(string customer);

    /// <summary>
    /// The customers changed after <paramref name="cursor"/> of feed <paramref name="epoch"/>. When the epoch is not the
    /// feed's own (it restarted) or the cursor fell out of its window, <see cref="RegistryChanges.Reset"/> says to drop everything.
    /// </summary>
    [Alias("Since")]
    Task<RegistryChanges> Since(Guid epoch, long cursor);
}

/// <summary>A page of the change feed.</summary>
/// <param name="Epoch">The feed's current epoch (new whenever it starts over).</param>
/// <param name="Cursor">Pass this back next time.</param>
/// <param name="Customers">Customers changed since the cursor asked for.</param>
/// <param name="Reset">True when the caller must drop its whole cache (the feed cannot say what changed).</param>
[GenerateSerializer, Immutable, Alias("fabric.RegistryChanges")]
public sealed record RegistryChanges(
    [property: Id(0)] Guid Epoch,
    [property: Id(1)] long Cursor,
    [property: Id(2)] IReadOnlyList<string> Customers,
    [property: Id(3)] bool Reset);
