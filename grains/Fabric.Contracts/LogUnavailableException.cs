namespace Fabric.Contracts;

/// <summary>
/// A customer's log could not be written or read right now (Redis down, or a write whose outcome is unknown); the
/// caller should retry, with the same idempotency key for an append.
/// </summary>
[GenerateSerializer, Alias("fabric.LogUnavailableException")]
public sealed class LogUnavailableException : Exception
{
    public LogUnavailableException()
    {
    }

    public LogUnavailableException(string message)
        : base(message)
    {
    }

    public LogUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
