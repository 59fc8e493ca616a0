namespace Fabric.Contracts;

/// <summary>Names of the Orleans stream every customer's events are published on, for server-side consumers.</summary>
public static class FabricStreams
{
    /// <summary>The stream provider name, on silos and clients alike.</summary>
    public const string ProviderName = "fabric";

    /// <summary>
    /// The stream namespace; the stream key is the customer id. Grains subscribe implicitly with
    /// <c>[ImplicitStreamSubscription(FabricStreams.CustomerEvents)]</c>.
    /// </summary>
    public const string CustomerEvents = "fabric.customer-events";

    /// <summary>The grain storage name Orleans stream pub-sub keeps its subscriptions in.</summary>
    public const string PubSubStore = "PubSubStore";
}
