using System.Globalization;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Trace;

namespace Fabric.Hosting.Telemetry;

/// <summary>
/// Which traces a Fabric process records, from the OpenTelemetry standard settings <c>OTEL_TRACES_SAMPLER</c> and
/// <c>OTEL_TRACES_SAMPLER_ARG</c> (environment or any configuration source). Fabric reads them itself rather than
/// leaving them to the SDK, for two differences: its default is chosen per process, and an unknown value stops the
/// start instead of falling back quietly. Shared by the gateway and the silo.
/// </summary>
public static class TraceSampling
{
    public const string SamplerKey = "OTEL_TRACES_SAMPLER";
    public const string ArgumentKey = "OTEL_TRACES_SAMPLER_ARG";

    /// <summary>
    /// The gateway's default: sample every trace, and let an incoming <c>traceparent</c> only link the trace. Its
    /// sampled flag comes from whoever calls the public API, and must not decide what the operator records (a client
    /// could otherwise hide its requests from tracing, or force every one of them to be recorded).
    /// </summary>
    public const string GatewayDefault = "always_on";

    /// <summary>
    /// The standalone silo's default: follow the caller's decision, since a silo's callers are the gateways (already
    /// sampled once at the edge), and record what starts on the silo itself (reminders). A silo that sampled on its own
    /// would record grain calls of traces the gateways dropped: fragments with no beginning.
    /// </summary>
    public const string SiloDefault = "parentbased_always_on";

    private static readonly Dictionary<string, Func<string?, Sampler>> Samplers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["always_on"] = _ => new AlwaysOnSampler(),
        ["always_off"] = _ => new AlwaysOffSampler(),
        ["traceidratio"] = argument => new TraceIdRatioBasedSampler(Ratio(argument)),
        ["parentbased_always_on"] = _ => new ParentBasedSampler(new AlwaysOnSampler()),
        ["parentbased_always_off"] = _ => new ParentBasedSampler(new AlwaysOffSampler()),
        ["parentbased_traceidratio"] = argument => new ParentBasedSampler(new TraceIdRatioBasedSampler(Ratio(argument))),
    };

    /// <summary>The sampler <c>OTEL_TRACES_SAMPLER</c> names (case-insensitive), or <paramref name="defaultSampler"/>'s when unset.</summary>
    /// <exception cref="InvalidOperationException">The name is not a sampler, or the ratio is not a number from 0 to 1.</exception>
    public static Sampler FromConfiguration(IConfiguration configuration, string defaultSampler)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var name = configuration[SamplerKey] is { Length: > 0 } configured ? configured.Trim() : defaultSampler;
        return Samplers.TryGetValue(name, out var create)
            ? create(configuration[ArgumentKey])
            : throw new InvalidOperationException($"{SamplerKey}='{name}' is not a sampler; use one of: {string.Join(", ", Samplers.Keys)}.");
    }

    /// <summary>The ratio of the <c>traceidratio</c> samplers: 0 to 1, default 1 (every trace) as the specification says.</summary>
    private static double Ratio(string? argument)
    {
        if (string.IsNullOrWhiteSpace(argument))
        {
            return 1.0;
        }

        return double.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1
            ? ratio
            : throw new InvalidOperationException($"{ArgumentKey}='{argument}' is not a sampling ratio; use a number from 0 to 1, e.g. 0.25.");
    }
}
