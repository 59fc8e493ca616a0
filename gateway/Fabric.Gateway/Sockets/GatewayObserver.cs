using Fabric.Contracts;

namespace Fabric.Gateway.Sockets;

/// <summary>The one observer this gateway process registers with every customer grain it holds sockets for.</summary>
internal sealed class GatewayObserver(FeedRegistry registry) : IGatewayObserver
{
    public Task OnEvents(EventBatch batch)
    {
        registry.OnEvents(batch);
        return Task.CompletedTask;
    }

    public Task OnPresence(PresenceChange change)
    {
        registry.OnPresence(change);
        return Task.CompletedTask;
    }

    public Task OnKick(string customer, string session)
    {
        registry.OnKick(customer, session);
        return Task.CompletedTask;
    }
}
