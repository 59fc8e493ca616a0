namespace Fabric.Gateway.Webhooks;

/// <summary>
/// The seam where a provider's rules plug in: which headers carry its idempotency key and event type, and (in a
/// later issue) how its signature is verified. One instance per configured source name.
/// </summary>
internal interface IWebhookSource
{
    /// <summary>Checks the request before anything is stored; a non-null result is the rejection to send.</summary>
    ValueTask<IResult?> VerifyAsync(HttpRequest request, ReadOnlyMemory<byte> body);

    /// <summary>The producer's idempotency key, if the request carries one.</summary>
    string? IdempotencyKey(HttpRequest request);

    /// <summary>The event type a header names, if any; it wins over the body's <c>type</c>.</summary>
    string? HeaderEventType(HttpRequest request);
}
