using Fabric.Contracts.Registry;
using Microsoft.Extensions.Options;

namespace Fabric.Grains.Registry;

/// <summary>
/// The change feed gateways poll. Kept in memory on purpose: if this activation is lost, its new epoch tells every
/// gateway to drop its whole cache, which is always safe; a persisted feed would only save some cache misses.
/// </summary>
internal sealed class RegistryChangesGrain(IOptions<RegistryOptions> options) : Grain, IRegistryChangesGrain
{
    private readonly Guid _epoch = Guid.NewGuid();
    private readonly Queue<(long Seq, string Customer)> _recent = new();
    private long _last;

    public Task Changed(string customer)
    {
        _recent.Enqueue((++_last, customer));
        while (_recent.Count > options.Value.ChangeFeedWindow)
        {
            _recent.Dequeue();
        }

        return Task.CompletedTask;
    }

    public Task<RegistryChanges> Since(Guid epoch, long cursor)
    {
        var oldestKept = _recent.TryPeek(out var oldest) ? oldest.Seq : _last + 1;
        if (epoch != _epoch || cursor > _last || cursor < oldestKept - 1)
        {
            return Task.FromResult(new RegistryChanges(_epoch, _last, [], Reset: true));
        }

        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (seq, customer) in _recent)
        {
            if (seq > cursor)
            {
                changed.Add(customer);
            }
        }

        return Task.FromResult(new RegistryChanges(_epoch, _last, [.. changed], Reset: false));
    }
}
