using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fabric.Gateway.Tests.Outbound;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Fabric.Gateway.Tests.Telemetry;

/// <summary>
/// One event, followed end to end the way an operator does in Jaeger: the spans OpenTelemetry exports (its in-memory
/// exporter, on a gateway of their own) form one trace from the webhook POST to the socket write and the endpoint's
/// POST, with the right parents; what is sent later links back to that trace instead.
/// </summary>
public sealed class TraceTests : IAsyncLifetime
{
    private readonly List<Activity> _exported = [];
    private readonly string _customer = GatewayFixture.NewCustomerId();
    private Receiver _receiver = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _receiver = await Receiver.StartAsync();
        _gateway = await TestGateway.StartAsync(
            new Dictionary<string, string?>
            {
                ["Fabric:Telemetry:AlwaysTrace"] = "true",
                ["Fabric:Telemetry:DebugCustomers:0"] = _customer,
                ["Fabric:Outbound:AllowedHosts:0"] = "127.0.0.1",
                ["Fabric:Outbound:RetryJitter"] = "0",
            },
            builder => builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(_exported)));
        (await _gateway.Http.PutAsync($"/v1/admin/customers/{_customer}", null)).EnsureSuccessStatusCode();
        (await _gateway.Http.PutAsync($"/v1/admin/customers/{_customer}/sources/{GatewayFixture.TestSource}", new StringContent("""{"scheme":"none"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task One_webhook_to_a_socket_and_an_endpoint_is_one_trace_whose_spans_have_the_right_parents()
    {
        var path = _receiver.Path((_, _) => new Answer(200));
        await CreateEndpointAsync(path);
        await using var socket = await FabricSocket.ConnectAsync(_gateway.Http.BaseAddress!, _customer);
        await socket.SubscribeAsync(["*"]);

        var ack = await (await _gateway.PostWebhookAsync(_customer, """{"type":"order.paid"}""")).Content.ReadFromJsonAsync<JsonElement>();
        var seq = ack.GetProperty("seq").GetInt64();
        await socket.ReceiveEventsAsync(1);
        await Eventually.True(() => _receiver.Got(path).Count == 1);

        var ingest = await SpanAsync(a => a.OperationName == "fabric.ingest" && Mine(a));
        var trace = ingest.TraceId;
        var server = await SpanAsync(a => a.TraceId == trace && a.Kind == ActivityKind.Server && a.DisplayName.StartsWith("POST /v1/webhooks", StringComparison.Ordinal));
        var verify = await SpanAsync(a => a.TraceId == trace && a.OperationName == "fabric.verify");
        var append = await SpanAsync(a => a.TraceId == trace && a.OperationName == "fabric.grain.append");
        var push = await SpanAsync(a => a.TraceId == trace && a.OperationName == "fabric.grain.push");
        var deliver = await SpanAsync(a => a.TraceId == trace && a.OperationName == "fabric.deliver");
        var write = await SpanAsync(a => a.TraceId == trace && a.OperationName == "fabric.socket.write");
        var attempt = await SpanAsync(a => a.TraceId == trace && a.OperationName == "fabric.outbound.attempt");
        var post = await SpanAsync(a => a.TraceId == trace && a.Kind == ActivityKind.Client && a.Source.Name == "System.Net.Http" && a.ParentSpanId == attempt.SpanId);

        // (The server span's own parent is the test's HttpClient span, in this same process.)
        Assert.Equal(server.SpanId, verify.ParentSpanId);
        Assert.Equal(server.SpanId, ingest.ParentSpanId);
        // The grain call's own Orleans spans sit between the ingest span and the append.
        Assert.True(IsAncestor(ingest, append), "the append descends from the ingest span");
        Assert.Equal(ingest.SpanId, push.ParentSpanId);
        Assert.Equal(push.SpanId, deliver.ParentSpanId);
        Assert.Equal(deliver.SpanId, write.ParentSpanId);
        Assert.Equal(ingest.SpanId, attempt.ParentSpanId);
        Assert.Equal(attempt.SpanId, post.ParentSpanId);

        Assert.Equal(seq, deliver.GetTagItem("fabric.seq"));
        Assert.Equal(1, deliver.GetTagItem("fabric.sockets"));
        Assert.Equal("none", verify.GetTagItem("fabric.scheme"));
        Assert.Equal("success", attempt.GetTagItem("fabric.outcome"));
        // The receiver is handed the trace: its traceparent names the POST's span.
        Assert.Equal($"00-{trace}-{post.SpanId}-01", _receiver.Got(path)[0].Header("traceparent"));
    }

    [Fact]
    public async Task A_resume_from_history_and_a_retried_delivery_link_to_the_original_trace()
    {
        var path = _receiver.Path((_, n) => n == 0 ? new Answer(500) : new Answer(200));
        await CreateEndpointAsync(path, new { retrySchedule = new[] { "00:00:01" } });
        var ack = await (await _gateway.PostWebhookAsync(_customer, """{"type":"order.refunded"}""")).Content.ReadFromJsonAsync<JsonElement>();
        var ingest = await SpanAsync(a => a.OperationName == "fabric.ingest" && Mine(a) && Equals(a.GetTagItem("fabric.seq"), ack.GetProperty("seq").GetInt64()));

        // A socket that resumes from before the event gets it from history.
        await using (var socket = await FabricSocket.ConnectAsync(_gateway.Http.BaseAddress!, _customer))
        {
            await socket.SubscribeAsync(["*"], since: ack.GetProperty("seq").GetInt64() - 1);
            await socket.ReceiveEventsAsync(1);
        }

        var replay = await SpanAsync(a => a.OperationName == "fabric.replay" && Mine(a) && a.Links.Any(l => l.Context.SpanId == ingest.SpanId));
        Assert.NotEqual(ingest.TraceId, replay.TraceId);
        Assert.Equal(default, replay.ParentSpanId);
        Assert.Equal("resume", replay.GetTagItem("fabric.reason"));

        // The first attempt fails; the retry a second later is a trace of its own, linked to the ingest span.
        await Eventually.True(() => _receiver.Got(path).Count == 2, TimeSpan.FromSeconds(30));
        var first = await SpanAsync(a => a.OperationName == "fabric.outbound.attempt" && a.TraceId == ingest.TraceId);
        var retry = await SpanAsync(a => a.OperationName == "fabric.outbound.attempt" && a.Links.Any(l => l.Context.SpanId == ingest.SpanId));
        Assert.Equal(ingest.SpanId, first.ParentSpanId);
        Assert.Equal("failure", first.GetTagItem("fabric.outcome"));
        Assert.NotEqual(ingest.TraceId, retry.TraceId);
        Assert.Equal(default, retry.ParentSpanId);
        Assert.Equal(2, retry.GetTagItem("fabric.attempt"));
        Assert.Equal("retry", retry.GetTagItem("fabric.reason"));
    }

    private bool Mine(Activity a) => Equals(a.GetTagItem("fabric.customer"), _customer);

    /// <summary>The exported span matching <paramref name="match"/>, once it has been exported (spans end after their answers).</summary>
    private async Task<Activity> SpanAsync(Func<Activity, bool> match)
    {
        Activity? found = null;
        await Eventually.True(() =>
        {
            lock (_exported)
            {
                found = _exported.FirstOrDefault(match);
            }

            return found is not null;
        });
        return found!;
    }

    private bool IsAncestor(Activity ancestor, Activity span)
    {
        lock (_exported)
        {
            for (var parent = span.ParentSpanId; parent != default;)
            {
                if (parent == ancestor.SpanId)
                {
                    return true;
                }

                parent = _exported.FirstOrDefault(a => a.SpanId == parent)?.ParentSpanId ?? default;
            }
        }

        return false;
    }

    private async Task CreateEndpointAsync(string path, object? settings = null)
    {
        var body = new Dictionary<string, object?> { ["url"] = _receiver.Url(path) };
        if (settings is not null)
        {
            foreach (var p in JsonSerializer.SerializeToElement(settings).EnumerateObject())
            {
                body[p.Name] = p.Value;
            }
        }

        Assert.Equal(HttpStatusCode.Created, (await _gateway.Http.PostAsJsonAsync($"/v1/admin/customers/{_customer}/endpoints", body)).StatusCode);
    }
}
