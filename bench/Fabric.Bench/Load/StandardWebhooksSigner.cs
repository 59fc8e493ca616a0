using System.Security.Cryptography;
using System.Text;

namespace Fabric.Bench.Load;

/// <summary>
/// Signs each load request as a Standard Webhooks sender does: a fresh <c>webhook-id</c> (so no two are duplicates),
/// the current timestamp, and <c>v1,</c> base64 HMAC-SHA256 over <c>{id}.{timestamp}.{body}</c>. The client pays for
/// signing and the baseline's client does not, so on a shared machine the ratio to bare Kestrel is, if anything, pessimistic.
/// </summary>
internal sealed class StandardWebhooksSigner(string secret)
{
    private readonly byte[] _key = Convert.FromBase64String(secret["whsec_".Length..]);
    private long _next;

    public void Sign(HttpRequestMessage request, byte[] body, int worker)
    {
        var id = $"msg_{worker}_{Interlocked.Increment(ref _next)}";
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        byte[] signed = [.. Encoding.UTF8.GetBytes($"{id}.{timestamp}."), .. body];
        request.Headers.TryAddWithoutValidation("webhook-id", id);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("webhook-signature", "v1," + Convert.ToBase64String(HMACSHA256.HashData(_key, signed)));
    }
}
