using Fabric.Contracts;

namespace Fabric.Gateway.Http;

/// <summary>
/// Which failures of a grain call mean "the cluster could not do it right now" (answered 503, retried, or waited out)
/// rather than a bug: timeouts, Orleans' own errors (a silo gone, a message rejected, no gateway), Redis errors, a
/// customer log that could not be written, and a failure reported with a type only silos load. Anything else is a bug
/// and is left to surface as one.
/// </summary>
internal static class ClusterFailure
{
    public static bool Is(Exception ex) => ex is TimeoutException or OrleansException or LogUnavailableException
        or StackExchange.Redis.RedisException or Orleans.Serialization.UnavailableExceptionFallbackException
        // A distributed gateway loads no silo-side assembly (grains, storage providers, Wasmtime): a silo's exception of
        // such a type (Redis storage failing while Redis restarts) cannot be read, and Orleans reports the reply as this.
        or TypeLoadException;
}
