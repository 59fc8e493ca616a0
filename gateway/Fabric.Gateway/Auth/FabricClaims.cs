namespace Fabric.Gateway.Auth;

/// <summary>The claims a Fabric bearer token turns into, and the policy names endpoints ask for.</summary>
internal static class FabricClaims
{
    public const string Scheme = "Fabric";

    /// <summary>The customer an API key belongs to.</summary>
    public const string Customer = "fabric:customer";

    /// <summary>One claim per scope of an API key.</summary>
    public const string Scope = "fabric:scope";

    /// <summary>Present (value <c>true</c>) on an admin key.</summary>
    public const string Admin = "fabric:admin";

    public const string AdminPolicy = "admin";
    public const string PublishPolicy = "publish";
    public const string HistoryPolicy = "history";
}
