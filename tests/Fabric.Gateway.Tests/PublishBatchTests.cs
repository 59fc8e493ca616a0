using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Fabric.Gateway.Tests;

/// <summary><c>POST /v1/customers/{customer}/events/batch</c>: one grain call, consecutive seqs, a result per event.</summary>
[Collection(GatewayCollection.Name)]
public sealed class PublishBatchTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_batch_is_appended_in_order_with_consecutive_seqs_and_a_result_per_event()
    {
        var customer = await fixture.NewCustomerAsync();
        await using var socket = await fixture.ConnectAsync(customer);
        await socket.SubscribeAsync(["*"]);
        var key = await fixture.CreateKeyAsync(customer, "publish");
        var body = """
            {"events":[
              {"type":"a","data":{"n":1},"id":"k1"},
              {"type":"has space","data":1},
              {"type":"b","data":{"n":2}},
              {"type":"a","data":{"n":1},"id":"k1"},
              {"type":"c"}
            ]}
            """;

        var response = await PostAsync(customer, key, body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(5, results.Count);
        Assert.Equal((1L, false), (results[0].GetProperty("seq").GetInt64(), results[0].GetProperty("duplicate").GetBoolean()));
        Assert.EndsWith("/invalid-type", results[1].GetProperty("error").GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(400, results[1].GetProperty("error").GetProperty("status").GetInt32());
        Assert.Equal(2L, results[2].GetProperty("seq").GetInt64());
        Assert.Equal((1L, true), (results[3].GetProperty("seq").GetInt64(), results[3].GetProperty("duplicate").GetBoolean()));
        Assert.EndsWith("/missing-data", results[4].GetProperty("error").GetProperty("type").GetString(), StringComparison.Ordinal);

        Assert.Equal([1L, 2L], (await socket.ReceiveEventsAsync(2)).Select(e => e.Seq()));
        Assert.Equal(2, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("lastSeq").GetInt64());
    }

    [Theory]
    [InlineData("""{"events":[]}""", "invalid-batch-size")]
    [InlineData("""{"events":{}}""", "invalid-body")]
    [InlineData("""[{"type":"a","data":1}]""", "invalid-body")]
    [InlineData("""{"events":[""", "invalid-json")]
    public async Task A_malformed_batch_is_refused_whole(string body, string problem)
    {
        var customer = await fixture.NewCustomerAsync();
        var response = await PostAsync(customer, GatewayFixture.AdminKey, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.EndsWith("/" + problem, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("lastSeq").GetInt64());
    }

    [Fact]
    public async Task More_than_a_thousand_events_are_refused()
    {
        var customer = await fixture.NewCustomerAsync();
        var body = "{\"events\":[" + string.Join(',', Enumerable.Repeat("{\"type\":\"a\",\"data\":1}", 1001)) + "]}";
        var response = await PostAsync(customer, GatewayFixture.AdminKey, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, (await fixture.Http.GetFromJsonAsync<JsonElement>($"/v1/customers/{customer}/events")).GetProperty("lastSeq").GetInt64());
    }

    private Task<HttpResponseMessage> PostAsync(string customer, string key, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/customers/{customer}/events/batch")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return fixture.Http.SendAsync(request);
    }
}
