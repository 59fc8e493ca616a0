namespace Fabric.Gateway.Webhooks;

/// <summary>Finds the <see cref="IWebhookSource"/> for a source name. Today every name is an unverified source.</summary>
internal sealed class WebhookSources
{
#pragma warning disable CA1822 // An instance method: configured sources (a later issue) make it stateful.
    public IWebhookSource Resolve(string source) => UnverifiedSource.Instance;
#pragma warning restore CA1822
}
