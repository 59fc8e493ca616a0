using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Fabric.Gateway.Tests.Wasm;

/// <summary>Attaching modules and reading what came of them, through the admin and history APIs.</summary>
internal static class TransformKit
{
    public static string SourcePath(string customer, string source = "test") => $"/v1/admin/customers/{customer}/sources/{source}/transform";

    public static string EndpointPath(string customer, string endpoint) => $"/v1/admin/customers/{customer}/endpoints/{endpoint}/transform";

    /// <summary>PUTs a module (as JSON with base64 when there is a config or policy, else as application/wasm); asserts 200.</summary>
    public static async Task<JsonElement> AttachAsync(this HttpClient http, string path, byte[] module, object? config = null, string? onError = null, bool keepOriginal = false)
    {
        var response = await PutAsync(http, path, module, config, onError, keepOriginal);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"PUT transform: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    public static Task<HttpResponseMessage> PutAsync(HttpClient http, string path, byte[] module, object? config = null, string? onError = null, bool keepOriginal = false)
    {
        if (config is null && onError is null && !keepOriginal)
        {
            return http.PutAsync(path, Modules.Content(module));
        }

        var json = JsonSerializer.Serialize(new { module = Convert.ToBase64String(module), config, onError, keepOriginal });
        return http.PutAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
    }

    public static async Task<List<JsonElement>> HistoryAsync(this HttpClient http, string customer, long after = 0)
    {
        var all = new List<JsonElement>();
        while (true)
        {
            var page = await http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events?after={after}&limit=1000");
            var events = page.GetProperty("events").EnumerateArray().ToList();
            if (events.Count == 0)
            {
                return all;
            }

            all.AddRange(events);
            after = events[^1].GetProperty("seq").GetInt64();
        }
    }

    public static async Task<string> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var type = JsonDocument.Parse(text).RootElement.GetProperty("type").GetString()!;
        return type[(type.LastIndexOf('/') + 1)..];
    }
}
