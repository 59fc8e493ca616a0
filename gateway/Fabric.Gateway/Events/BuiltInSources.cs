namespace Fabric.Gateway.Events;

/// <summary>The sources Fabric records on the events it takes in itself; no customer source may use these names.</summary>
internal static class BuiltInSources
{
    /// <summary>Events published through the publish API.</summary>
    public const string Api = "api";

    /// <summary>Events published by a two-way socket.</summary>
    public const string Socket = "socket";

    /// <summary>Events Fabric writes about itself (<c>fabric.endpoint.disabled</c>).</summary>
    public const string Fabric = "fabric";
}
