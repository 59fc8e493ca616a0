using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Fabric.Hosting.Telemetry;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Trace;

namespace Fabric.Gateway.Tests;

/// <summary>
/// <c>OTEL_TRACES_SAMPLER</c>: what the operator configures decides which traces are recorded, not the sampled flag of
/// a client's <c>traceparent</c>.
/// </summary>
public sealed class TraceSamplingTests
{
    [Theory]
    [InlineData(ActivityTraceFlags.None)]
    [InlineData(ActivityTraceFlags.Recorded)]
    public void A_client_sampled_flag_does_not_decide_tracing_by_default(ActivityTraceFlags clientFlags)
    {
        var sampler = TraceSampling.FromConfiguration(Configuration([]), TraceSampling.GatewayDefault);
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(sampler, RemoteParent(clientFlags)));
    }

    [Fact]
    public void A_parent_based_sampler_follows_the_parent_when_configured()
    {
        var sampler = TraceSampling.FromConfiguration(Configuration(new() { [TraceSampling.SamplerKey] = "ParentBased_Always_On" }), TraceSampling.GatewayDefault);
        Assert.Equal(SamplingDecision.Drop, Decide(sampler, RemoteParent(ActivityTraceFlags.None)));
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(sampler, RemoteParent(ActivityTraceFlags.Recorded)));
    }

    [Theory]
    [InlineData("0", SamplingDecision.Drop)]
    [InlineData("1", SamplingDecision.RecordAndSample)]
    public void A_trace_id_ratio_takes_its_argument(string ratio, SamplingDecision expected)
    {
        var sampler = TraceSampling.FromConfiguration(
            Configuration(new() { [TraceSampling.SamplerKey] = "traceidratio", [TraceSampling.ArgumentKey] = ratio }), TraceSampling.GatewayDefault);
        Assert.Equal(expected, Decide(sampler, RemoteParent(ActivityTraceFlags.Recorded)));
    }

    [Theory]
    [InlineData("sometimes", null)]
    [InlineData("traceidratio", "1.5")]
    [InlineData("parentbased_traceidratio", "a quarter")]
    public void An_unknown_sampler_or_ratio_stops_the_start(string name, string? argument)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => TraceSampling.FromConfiguration(
            Configuration(new() { [TraceSampling.SamplerKey] = name, [TraceSampling.ArgumentKey] = argument }), TraceSampling.GatewayDefault));
        Assert.Contains(argument ?? name, refused.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// End to end on a gateway with tracing on (an exporter endpoint nobody listens at): a request whose traceparent
    /// says "not sampled" is still recorded, in the client's trace.
    /// </summary>
    [Fact]
    public async Task A_request_with_an_unsampled_traceparent_is_recorded_in_the_clients_trace()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var recorded = new ConcurrentQueue<Activity>();
        // Listens without voting (None), so the gateway's own sampler alone decides what is recorded.
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == traceId && activity.Recorded)
                {
                    recorded.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var gateway = await TestGateway.StartAsync(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9" });

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/customers?limit=1");
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-00");
        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.SendAsync(request)).StatusCode);

        await Eventually.True(() => !recorded.IsEmpty);
        Assert.All(recorded, a => Assert.Equal(traceId, a.TraceId));
    }

    private static SamplingDecision Decide(Sampler sampler, ActivityContext parent) =>
        sampler.ShouldSample(new SamplingParameters(parent, parent.TraceId, "POST /v1/webhooks/{customer}/{source}", ActivityKind.Server)).Decision;

    private static ActivityContext RemoteParent(ActivityTraceFlags flags) =>
        new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), flags, isRemote: true);

    private static IConfiguration Configuration(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
