using System.Net.Http.Headers;
using System.Text;

namespace Fabric.Gateway.Tests.Webhooks;

/// <summary>Sends a signed delivery byte for byte: the body as signed, each header as the library produced it.</summary>
internal static class WebhookRequests
{
    public static Task<HttpResponseMessage> SendAsync(HttpClient http, string path, SignedRequest delivery)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(delivery.Body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        foreach (var (name, value) in delivery.Headers)
        {
            if (name.Equals("content-type", StringComparison.OrdinalIgnoreCase))
            {
                content.Headers.ContentType = MediaTypeHeaderValue.Parse(value);
            }
            else
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return http.SendAsync(request);
    }
}
