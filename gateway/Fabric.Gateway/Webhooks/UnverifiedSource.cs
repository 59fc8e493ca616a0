namespace Fabric.Gateway.Webhooks;

/// <summary>
/// Any source name without verification configured: accepts the body as is and reads the idempotency key and event
/// type from the headers the common providers send, so their retries de-duplicate without any setup.
/// </summary>
internal sealed class UnverifiedSource : IWebhookSource
{
    public static readonly UnverifiedSource Instance = new();

    /// <summary>Checked in order; the first present wins. Standard Webhooks, then GitHub and Shopify delivery ids.</summary>
    private static readonly string[] KeyHeaders = ["Idempotency-Key", "webhook-id", "X-GitHub-Delivery", "X-Shopify-Webhook-Id"];

    /// <summary>An explicit Fabric header first, then the providers' own event headers.</summary>
    private static readonly string[] TypeHeaders = ["Fabric-Event-Type", "X-GitHub-Event", "X-Shopify-Topic"];

    public ValueTask<IResult?> VerifyAsync(HttpRequest request, ReadOnlyMemory<byte> body) => ValueTask.FromResult<IResult?>(null);

    public string? IdempotencyKey(HttpRequest request) => First(request, KeyHeaders);

    public string? HeaderEventType(HttpRequest request) => First(request, TypeHeaders);

    private static string? First(HttpRequest request, string[] names)
    {
        foreach (var name in names)
        {
            if (request.Headers.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value))
            {
                return value.ToString();
            }
        }

        return null;
    }
}
