using Orleans.Concurrency;

namespace Fabric.Contracts.Endpoints;

/// <summary>
/// One outbound webhook endpoint of a customer: its configuration, its cursor into the customer's log, the messages it
/// is delivering or retrying, and their attempts. Keyed by <see cref="EndpointKey.Of"/> (<c>{customer}/{endpoint}</c>).
/// </summary>
[Alias("fabric.IEndpointGrain")]
public interface IEndpointGrain : IGrainWithStringKey
{
    /// <summary>Registers the endpoint with its first secret; it delivers events after <paramref name="afterSeq"/> (null = from now on).</summary>
    [Alias("Create")]
    Task<EndpointView> Create(EndpointSettings settings, string protectedSecret, long? afterSeq);

    /// <summary>The endpoint as an operator sees it, or null when it does not exist.</summary>
    [Alias("GetView")]
    Task<EndpointView?> GetView();

    /// <summary>Changes the given settings (null ones stay); re-enabling resumes delivery from where it stopped.</summary>
    [Alias("Update")]
    Task<EndpointView?> Update(EndpointSettings changes);

    /// <summary>Removes the endpoint and everything it kept; deliveries in flight are abandoned.</summary>
    [Alias("Delete")]
    Task<bool> Delete();

    /// <summary>Adds a new signing secret; the ones before it keep signing for <paramref name="overlap"/> (by Fabric's clock).</summary>
    [Alias("RotateSecret")]
    Task<EndpointView?> RotateSecret(string protectedSecret, TimeSpan overlap);

    /// <summary>Messages of one status, newest first for delivered and failed, in seq order for pending.</summary>
    [Alias("GetMessages")]
    Task<IReadOnlyList<MessageView>?> GetMessages(MessageStatus status, int limit);

    /// <summary>Attempts a failed (or delivered) message once more, now.</summary>
    [Alias("Retry")]
    Task<RetryOutcome> Retry(string eventId);

    /// <summary>Retries every failed message whose last attempt was at or after <paramref name="since"/>, in the background.</summary>
    [Alias("Recover")]
    Task<RecoveryView?> Recover(DateTimeOffset since);

    /// <summary>The progress of the last recovery, or null when none ran (or the endpoint does not exist).</summary>
    [Alias("GetRecovery")]
    Task<RecoveryView?> GetRecovery();

    /// <summary>Attaches the module that shapes this endpoint's bodies (replacing the one before); null when the endpoint does not exist.</summary>
    [Alias("SetTransform")]
    Task<Transforms.TransformAttach?> SetTransform(Transforms.TransformSettings settings);

    /// <summary>The endpoint's module with its counters and last errors, or null when none is attached (or no endpoint).</summary>
    [Alias("GetTransform")]
    Task<Transforms.TransformView?> GetTransform();

    /// <summary>Detaches the endpoint's module; false when none was attached.</summary>
    [Alias("RemoveTransform")]
    Task<bool> RemoveTransform();

    /// <summary>The customer's log has events up to <paramref name="lastSeq"/>: read what is new.</summary>
    [OneWay, Alias("OnAppended")]
    Task OnAppended(long lastSeq);
}

/// <summary>Grain keys of endpoints: one per customer and endpoint id.</summary>
public static class EndpointKey
{
    public static string Of(string customer, string endpoint) => customer + "/" + endpoint;

    public static (string Customer, string Endpoint) Parse(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return (key[..slash], key[(slash + 1)..]);
    }
}
