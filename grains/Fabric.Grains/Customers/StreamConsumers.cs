using System.Collections.Immutable;
using Fabric.Contracts;
using Orleans.Metadata;
using Orleans.Streams;

namespace Fabric.Grains.Customers;

/// <summary>
/// Whether any grain type in the cluster subscribes implicitly to <see cref="FabricStreams.CustomerEvents"/>, the
/// documented way to consume the customers' stream. Publishing costs each event a serialization, a queue-grain call,
/// two deep copies and a place in the provider's cache, so the customer grain publishes only while someone would read it. Read from the cluster manifest,
/// recomputed when its version changes (a silo with a consumer joined or left).
/// </summary>
internal sealed class StreamConsumers(GrainBindingsResolver bindings, IEnumerable<IStreamNamespacePredicateProvider> providers)
{
    private readonly IStreamNamespacePredicateProvider[] _providers = [.. providers];
    // A reference, so that a grain on another thread reads a version and its answer together, never half of each.
    private Known? _known;

    /// <summary>True when some grain type binds to the customers' stream namespace (checked once per manifest version).</summary>
    public bool Any
    {
        get
        {
            var version = bindings.GetAllBindings().Version;
            if (_known is { } known && known.Version == version)
            {
                return known.Any;
            }

            var any = Subscribed(FabricStreams.CustomerEvents);
            _known = new Known(version, any);
            return any;
        }
    }

    /// <summary>True when some grain type in the cluster binds to <paramref name="streamNamespace"/> implicitly.</summary>
    public bool Subscribed(string streamNamespace) =>
        bindings.GetAllBindings().Bindings.Values.Any(grain => grain.Bindings.Any(b => Matches(b, streamNamespace)));

    private bool Matches(ImmutableDictionary<string, string> binding, string streamNamespace)
    {
        if (!binding.TryGetValue(WellKnownGrainTypeProperties.BindingTypeKey, out var type)
            || type != WellKnownGrainTypeProperties.StreamBindingTypeValue
            || !binding.TryGetValue(WellKnownGrainTypeProperties.StreamBindingPatternKey, out var pattern))
        {
            return false;
        }

        foreach (var provider in _providers)
        {
            if (provider.TryGetPredicate(pattern, out var predicate))
            {
                return predicate.IsMatch(streamNamespace);
            }
        }

        return false;
    }

    private sealed record Known(MajorMinorVersion Version, bool Any);
}
