namespace Fabric.Gateway.Http;

/// <summary>The page size of every list the HTTP API returns: <c>limit</c> from 1 to <see cref="MaxLimit"/>.</summary>
internal static class Paging
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static bool IsValid(int? limit) => limit is null or (>= 1 and <= MaxLimit);

    public static int Take(int? limit) => limit ?? DefaultLimit;
}
