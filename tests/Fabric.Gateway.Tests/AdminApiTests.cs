using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fabric.Gateway.Admin;
using Fabric.Gateway.Customers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Tests;

/// <summary>The admin API: admin keys only, problem+json for every refusal, and no secret or key ever shown twice.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AdminApiTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData(null)]
    [InlineData("not-the-admin-key")]
    [InlineData("fab~acme~key_0000000000000000~forged")]
    public async Task Without_an_admin_key_the_admin_api_answers_401(string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/customers");
        request.Headers.Authorization = key is null ? null : new AuthenticationHeaderValue("Bearer", key);
        var response = await Anonymous().SendAsync(request);
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task A_customers_api_key_cannot_use_the_admin_api()
    {
        var customer = await fixture.NewCustomerAsync();
        var key = await fixture.CreateKeyAsync(customer, "publish", "history", "subscribe");
        await AssertProblemAsync(await Send(HttpMethod.Get, $"/v1/admin/customers/{customer}", key), HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task A_customer_is_created_once_then_updated_and_shows_no_secret_or_key()
    {
        var customer = GatewayFixture.NewCustomerId();
        Assert.Equal(HttpStatusCode.Created, (await fixture.Http.PutAsJsonAsync($"/v1/admin/customers/{customer}", new { name = "Acme" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.PutAsJsonAsync($"/v1/admin/customers/{customer}", new { name = "Acme Inc" })).StatusCode);
        await fixture.PutSourceAsync(customer, "stripe", """{"scheme":"stripe","secrets":["whsec_very_secret_value"],"toleranceSeconds":120}""");
        var key = await fixture.CreateKeyAsync(customer, "history");

        var text = await fixture.Http.GetStringAsync($"/v1/admin/customers/{customer}");
        Assert.DoesNotContain("whsec_very_secret_value", text, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Split('~')[3], text, StringComparison.Ordinal);
        var view = JsonDocument.Parse(text).RootElement;
        Assert.Equal(("Acme Inc", customer), (view.GetProperty("name").GetString(), view.GetProperty("id").GetString()));
        var source = Assert.Single(view.GetProperty("sources").EnumerateArray());
        Assert.Equal(("stripe", "stripe", 1, 120), (source.GetProperty("name").GetString(), source.GetProperty("scheme").GetString(), source.GetProperty("secrets").GetInt32(), source.GetProperty("toleranceSeconds").GetInt32()));
        var listed = Assert.Single(view.GetProperty("keys").EnumerateArray());
        Assert.Equal(key.Split('~')[2], listed.GetProperty("id").GetString());
        Assert.Equal(["history"], listed.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task Customers_are_listed_in_pages()
    {
        var ids = new[] { await fixture.NewCustomerAsync(), await fixture.NewCustomerAsync(), await fixture.NewCustomerAsync() };
        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await fixture.Http.GetFromJsonAsync<JsonElement>("/v1/admin/customers?limit=2" + (after is null ? "" : "&after=" + after));
            seen.AddRange(page.GetProperty("customers").EnumerateArray().Select(c => c.GetProperty("id").GetString()!));
            after = page.GetProperty("next").ValueKind == JsonValueKind.String ? page.GetProperty("next").GetString() : null;
        }
        while (after is not null);

        Assert.Superset(ids.ToHashSet(), seen.ToHashSet());
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);
    }

    [Theory]
    [InlineData("""{"scheme":"md5","secrets":["x"]}""", "invalid-scheme")]
    [InlineData("""{"secrets":["x"]}""", "invalid-scheme")]
    [InlineData("""{"scheme":"standard","secrets":["not-a-whsec-secret"]}""", "invalid-secret")]
    [InlineData("""{"scheme":"standard","secrets":["whsec_c2hvcnQ="]}""", "invalid-secret")]
    [InlineData("""{"scheme":"github","secrets":[]}""", "invalid-secret")]
    [InlineData("""{"scheme":"none","secrets":["x"]}""", "invalid-secret")]
    [InlineData("""{"scheme":"stripe","secrets":["x"],"toleranceSeconds":0}""", "invalid-tolerance")]
    [InlineData("""{"scheme":"hmac","secrets":["x"]}""", "invalid-source-settings")]
    [InlineData("""{"scheme":"hmac","secrets":["x"],"header":"X-Sig","algorithm":"md5"}""", "invalid-source-settings")]
    [InlineData("""{"scheme":"stripe","secrets":"x"}""", "invalid-json")]
    [InlineData("""{"scheme":""", "invalid-json")]
    public async Task A_bad_source_is_refused_with_the_reason_and_never_echoes_the_secret(string body, string problem)
    {
        var customer = await fixture.NewCustomerAsync();
        var response = await fixture.Http.PutAsync($"/v1/admin/customers/{customer}/sources/bad", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await AssertProblemAsync(response, HttpStatusCode.BadRequest, problem);
        Assert.DoesNotContain("not-a-whsec-secret", text, StringComparison.Ordinal);
        Assert.DoesNotContain((await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/admin/customers/{customer}")).GetProperty("sources").EnumerateArray(), s => s.GetProperty("name").GetString() == "bad");
    }

    /// <summary>Idempotency keys are scoped by source: a webhook source named like Fabric's own could claim their keys.</summary>
    [Theory]
    [InlineData("api")]
    [InlineData("socket")]
    [InlineData("fabric")]
    [InlineData("admin")]
    [InlineData("system")]
    [InlineData("API")]
    public async Task Reserved_source_names_are_refused_and_nothing_is_stored(string name)
    {
        var customer = await fixture.NewCustomerAsync();
        var response = await fixture.Http.PutAsync($"/v1/admin/customers/{customer}/sources/{name}", new StringContent("""{"scheme":"none"}""", Encoding.UTF8, "application/json"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "reserved-source-name");
        var sources = (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/admin/customers/{customer}")).GetProperty("sources").EnumerateArray();
        Assert.Equal([GatewayFixture.TestSource], sources.Select(s => s.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task A_seed_with_a_reserved_source_name_stops_the_start_and_registers_nothing()
    {
        var customer = GatewayFixture.NewCustomerId();
        var seed = new SeedOptions();
        seed.Customers[customer] = new SeedCustomer { Sources = { ["demo"] = new SeedSource { Scheme = "none" }, ["api"] = new SeedSource { Scheme = "none" } } };
        var seeder = new RegistrySeeder(
            fixture.Services.GetRequiredService<IGrainFactory>(), fixture.Services.GetRequiredService<SecretProtector>(), Options.Create(seed), TimeProvider.System, NullLogger<RegistrySeeder>.Instance);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => seeder.StartAsync(CancellationToken.None));
        Assert.Contains("reserved", refused.Message, StringComparison.Ordinal);
        await AssertProblemAsync(await fixture.Http.GetAsync($"/v1/admin/customers/{customer}"), HttpStatusCode.NotFound, "unknown-customer");
    }

    [Fact]
    public async Task Sources_and_keys_of_an_unknown_customer_answer_404_and_create_nothing()
    {
        var customer = GatewayFixture.NewCustomerId();
        await AssertProblemAsync(await fixture.Http.GetAsync($"/v1/admin/customers/{customer}"), HttpStatusCode.NotFound, "unknown-customer");
        await AssertProblemAsync(await fixture.Http.PutAsync($"/v1/admin/customers/{customer}/sources/s", new StringContent("""{"scheme":"none"}""", Encoding.UTF8, "application/json")), HttpStatusCode.NotFound, "unknown-customer");
        await AssertProblemAsync(await fixture.Http.PostAsJsonAsync($"/v1/admin/customers/{customer}/keys", new { scopes = new[] { "publish" } }), HttpStatusCode.NotFound, "unknown-customer");
        await AssertProblemAsync(await fixture.Http.GetAsync($"/v1/admin/customers/{customer}"), HttpStatusCode.NotFound, "unknown-customer");
    }

    [Fact]
    public async Task A_deleted_source_refuses_deliveries_and_a_revoked_key_is_refused_at_once_on_this_gateway()
    {
        var customer = await fixture.NewCustomerAsync();
        var key = await fixture.CreateKeyAsync(customer, "history");
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/v1/customers/{customer}/events", key)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Http.DeleteAsync($"/v1/admin/customers/{customer}/sources/{GatewayFixture.TestSource}")).StatusCode);
        await AssertProblemAsync(await fixture.PostWebhookAsync(customer, """{"type":"x"}"""), HttpStatusCode.NotFound, "unknown-source");
        await AssertProblemAsync(await fixture.Http.DeleteAsync($"/v1/admin/customers/{customer}/sources/{GatewayFixture.TestSource}"), HttpStatusCode.NotFound, "unknown-source");

        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Http.DeleteAsync($"/v1/admin/customers/{customer}/keys/{key.Split('~')[2]}")).StatusCode);
        await AssertProblemAsync(await Send(HttpMethod.Get, $"/v1/customers/{customer}/events", key), HttpStatusCode.Unauthorized, "unauthorized");
        await AssertProblemAsync(await fixture.Http.DeleteAsync($"/v1/admin/customers/{customer}/keys/{key.Split('~')[2]}"), HttpStatusCode.NotFound, "unknown-key");
    }

    [Theory]
    [InlineData("""{"scopes":[]}""")]
    [InlineData("""{"scopes":["admin"]}""")]
    [InlineData("""{}""")]
    public async Task A_key_needs_known_scopes(string body)
    {
        var customer = await fixture.NewCustomerAsync();
        var response = await fixture.Http.PostAsync($"/v1/admin/customers/{customer}/keys", new StringContent(body, Encoding.UTF8, "application/json"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-scopes");
    }

    /// <summary>
    /// Keys of customer A against A and B, for publish and history: only A's key with the scope passes; B answers the
    /// same 403 whether it exists or not, so no key reveals another customer.
    /// </summary>
    [Fact]
    public async Task Keys_are_isolated_by_customer_and_scope()
    {
        var a = await fixture.NewCustomerAsync();
        var b = await fixture.NewCustomerAsync();
        var stranger = GatewayFixture.NewCustomerId();
        var publish = await fixture.CreateKeyAsync(a, "publish");
        var history = await fixture.CreateKeyAsync(a, "history");
        const string Event = """{"type":"t","data":1}""";

        Assert.Equal(HttpStatusCode.Accepted, (await Send(HttpMethod.Post, $"/v1/customers/{a}/events", publish, Event)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/v1/customers/{a}/events", history)).StatusCode);
        await AssertProblemAsync(await Send(HttpMethod.Get, $"/v1/customers/{a}/events", publish), HttpStatusCode.Forbidden, "forbidden");
        await AssertProblemAsync(await Send(HttpMethod.Post, $"/v1/customers/{a}/events", history, Event), HttpStatusCode.Forbidden, "forbidden");
        await AssertProblemAsync(await Send(HttpMethod.Post, $"/v1/customers/{a}/events/batch", history, """{"events":[{"type":"t","data":1}]}"""), HttpStatusCode.Forbidden, "forbidden");
        foreach (var other in new[] { b, stranger })
        {
            foreach (var key in new[] { publish, history })
            {
                await AssertProblemAsync(await Send(HttpMethod.Post, $"/v1/customers/{other}/events", key, Event), HttpStatusCode.Forbidden, "forbidden");
                await AssertProblemAsync(await Send(HttpMethod.Get, $"/v1/customers/{other}/events", key), HttpStatusCode.Forbidden, "forbidden");
            }
        }

        foreach (var missing in new[] { null, "fab~" + a + "~key_0000000000000000~guessed", publish + "x", "garbage" })
        {
            await AssertProblemAsync(await Send(HttpMethod.Get, $"/v1/customers/{a}/events", missing), HttpStatusCode.Unauthorized, "unauthorized");
            await AssertProblemAsync(await Send(HttpMethod.Post, $"/v1/customers/{a}/events", missing, Event), HttpStatusCode.Unauthorized, "unauthorized");
        }

        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{b}/events")).GetProperty("lastSeq").GetInt64());
        Assert.Equal(1, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{a}/events")).GetProperty("lastSeq").GetInt64());
    }

    [Fact]
    public async Task The_openapi_document_describes_every_endpoint()
    {
        var document = await Anonymous().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/v1/admin/customers/{customer}/sources/{source}", paths);
        Assert.Contains("/v1/admin/customers/{customer}/keys/{id}", paths);
        Assert.Contains("/v1/webhooks/{customer}/{source}", paths);
        Assert.Contains("/v1/customers/{customer}/events/batch", paths);
    }

    private HttpClient Anonymous() => new() { BaseAddress = fixture.BaseAddress };

    private Task<HttpResponseMessage> Send(HttpMethod method, string path, string? key, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return Anonymous().SendAsync(request);
    }

    private static async Task<string> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string problem)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("/" + problem, JsonDocument.Parse(text).RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
        return text;
    }
}
