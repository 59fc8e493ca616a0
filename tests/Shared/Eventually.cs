namespace Fabric.Tests;

/// <summary>Waits for a condition that a push or a stream makes true asynchronously; fails after a generous bound.</summary>
internal static class Eventually
{
    public static Task True(Func<bool> condition, TimeSpan? within = null) => True(() => Task.FromResult(condition()), within);

    public static async Task True(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not become true in time.");
            await Task.Delay(20);
        }
    }
}
