namespace Fabric.Grains;

/// <summary>
/// Fabric's clock is a keyed <see cref="TimeProvider"/> so tests can move it without moving Orleans' own timers.
/// </summary>
public static class FabricTime
{
    public const string Key = "fabric";
}
