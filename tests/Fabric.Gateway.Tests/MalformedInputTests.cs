using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Fabric.Gateway.Tests;

/// <summary>
/// A generated run of malformed requests against every ingress: random bytes, truncated JSON, invalid UTF-8, wrong
/// media types, huge and duplicated headers, bad signatures, bad ids. Every answer is a 4xx, nothing is stored or
/// registered, and the gateway still serves afterwards. Seeded, so a failure reproduces.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class MalformedInputTests(GatewayFixture fixture)
{
    private const int Requests = 1200;
    private static readonly string[] ContentTypes =
        ["application/json", "text/plain", "application/xml", "multipart/form-data; boundary=x", "application/cloudevents+json", "application/cloudevents-batch+json", "", "application/json; charset=utf-8", "*/*"];

    [Fact]
    public async Task A_thousand_malformed_requests_get_only_4xx_and_store_nothing()
    {
        var random = new Random(20261123);
        var customer = await fixture.NewCustomerAsync();
        await fixture.PutSourceAsync(customer, "gh", """{"scheme":"github","secrets":["fuzz secret"]}""");
        await fixture.PutSourceAsync(customer, "std", """{"scheme":"standard","secrets":["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]}""");
        var key = await fixture.CreateKeyAsync(customer, "publish", "history");
        var stranger = GatewayFixture.NewCustomerId();
        using var http = new HttpClient { BaseAddress = fixture.BaseAddress };
        var statuses = new Dictionary<int, int>();

        for (var i = 0; i < Requests; i++)
        {
            using var request = Generate(random, i, customer, stranger, key);
            using var response = await http.SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            Assert.True(status is >= 400 and < 500, $"request {i} ({request.Method} {request.RequestUri}) answered {status}: {await response.Content.ReadAsStringAsync()}");
        }

        Assert.True(statuses.Count >= 5, "the run should provoke many kinds of refusal: " + string.Join(", ", statuses));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("lastSeq").GetInt64());
        var config = await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/admin/customers/{customer}");
        Assert.Equal(["gh", "std", GatewayFixture.TestSource], config.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        Assert.Single(config.GetProperty("keys").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync($"/v1/admin/customers/{stranger}")).StatusCode);
    }

    private static HttpRequestMessage Generate(Random random, int i, string customer, string stranger, string key)
    {
        var (method, path, auth) = (i % 9) switch
        {
            0 => (HttpMethod.Post, $"/v1/webhooks/{customer}/{GatewayFixture.TestSource}", null),
            1 => (HttpMethod.Post, $"/v1/webhooks/{customer}/gh", null),
            2 => (HttpMethod.Post, $"/v1/webhooks/{customer}/std", null),
            3 => (HttpMethod.Post, $"/v1/customers/{customer}/events", key),
            4 => (HttpMethod.Post, $"/v1/customers/{customer}/events/batch", key),
            5 => (HttpMethod.Put, $"/v1/admin/customers/{customer}/sources/fuzz", GatewayFixture.AdminKey),
            6 => (HttpMethod.Post, $"/v1/admin/customers/{stranger}/keys", GatewayFixture.AdminKey),
            7 => (HttpMethod.Post, $"/v1/webhooks/{Junk(random)}/{Junk(random)}", null),
            _ => (HttpMethod.Put, $"/v1/admin/customers/{customer}", GatewayFixture.AdminKey),
        };
        var signed = i % 9 is 1 or 2;
        var request = new HttpRequestMessage(method, path);
        var body = MalformedBody(random, signed);
        var content = new ByteArrayContent(body);
        var contentType = ContentTypes[random.Next(ContentTypes.Length)];
        if (contentType.Length > 0)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        request.Content = content;
        if (auth is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", auth);
        }

        switch (random.Next(6))
        {
            case 0:
                request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(RandomBytes(random, 32)));
                break;
            case 1:
                request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", ["sha256=00", "sha256=11"]);
                request.Headers.TryAddWithoutValidation("webhook-signature", ["v1,AAAA", "v1,BBBB"]);
                break;
            case 2:
                request.Headers.TryAddWithoutValidation("X-Padding", new string('h', random.Next(10_000, 40_000)));
                break;
            case 3:
                request.Headers.TryAddWithoutValidation("webhook-id", "msg_" + random.Next());
                request.Headers.TryAddWithoutValidation("webhook-timestamp", random.Next(2) == 0 ? "not-a-number" : DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
                request.Headers.TryAddWithoutValidation("webhook-signature", "v1," + Convert.ToBase64String(RandomBytes(random, 32)) + " v1a," + Convert.ToBase64String(RandomBytes(random, 64)));
                break;
            case 4:
                request.Headers.TryAddWithoutValidation("Authorization", random.Next(2) == 0 ? "Bearer " + new string('k', 2000) : "Basic Zm9vOmJhcg==");
                break;
        }

        return request;
    }

    /// <summary>Never a valid UTF-8 JSON document, unless <paramref name="validJson"/> (for signed sources, whose signature is what fails).</summary>
    private static byte[] MalformedBody(Random random, bool validJson)
    {
        if (validJson && random.Next(2) == 0)
        {
            return Encoding.UTF8.GetBytes("{\"type\":\"fuzz." + random.Next() + "\",\"data\":{\"n\":" + random.Next() + "}}");
        }

        while (true)
        {
            var candidate = (random.Next(7)) switch
            {
                0 => RandomBytes(random, random.Next(1, 300)),
                1 => Truncated(random, """{"type":"a","data":{"nested":[1,2,{"x":"y"}]},"id":"k-1","events":[{"type":"b","data":1}]}"""),
                2 => [.. "{\"type\":\"x\",\"data\":\""u8, 0xC3, 0x28, .. "\"}"u8],
                3 => Encoding.UTF8.GetBytes(new string('[', 200) + new string(']', 199)),
                4 => Encoding.UTF8.GetBytes("{\"scheme\":\"standard\",\"secrets\":[\"whsec_" + new string('!', random.Next(1, 50)) + "\""),
                5 => new byte[GatewayFixture.MaxBodyBytes + 1 + random.Next(100)],
                _ => Encoding.UTF8.GetBytes("{\"events\":[" + string.Join(',', Enumerable.Repeat("{\"type\":\"a b\"}", random.Next(1, 5))) + "]"),
            };
            if (!IsValidJson(candidate))
            {
                return candidate;
            }
        }
    }

    private static bool IsValidJson(byte[] body)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return false;
        }

        try
        {
            using var _ = JsonDocument.Parse(body);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static byte[] Truncated(Random random, string json) => Encoding.UTF8.GetBytes(json[..random.Next(1, json.Length - 1)]);

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string Junk(Random random)
    {
        const string alphabet = "abc-_.%20$!~é0123";
        return new string([.. Enumerable.Range(0, random.Next(1, 80)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
    }
}
