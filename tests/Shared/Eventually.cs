namespace Fabric.Tests;

/// <summary>Waits for a condition that a push or a stream makes true asynchronously; fails after a generous bound.</summary>
internal static class Eventually
{
    public static Task True(Func<bool> condition, TimeSpan? within = null, Func<string>? state = null) =>
        True(() => Task.FromResult(condition()), within, state);

    // state: what the failure message shows of what the condition looked at, so that a rare failure says why.
    public static async Task True(Func<Task<bool>> condition, TimeSpan? within = null, Func<string>? state = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                // Built only on failure: the state may be costly to describe, and the condition is polled every 20 ms.
                Assert.Fail("The condition did not become true in time." + (state is null ? "" : " " + state()));
            }

            await Task.Delay(20);
        }
    }
}
