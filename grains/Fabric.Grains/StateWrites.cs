namespace Fabric.Grains;

/// <summary>
/// Grain-state writes one after another. A reentrant grain (or one whose background loop saves beside its calls)
/// must not overlap two writes of one state: the second would carry the etag the first replaces and trip the storage's
/// check. Each caller's task completes once a write that started after its call has landed, so its change is kept.
/// Used on the activation's scheduler only (not thread-safe, and needs none there).
/// </summary>
public sealed class StateWrites
{
    private Task _last = Task.CompletedTask;

    /// <summary>Runs <paramref name="write"/> after the write before it, whatever that one's outcome (its caller was told).</summary>
    public Task WriteAsync(Func<Task> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        _last = AfterAsync(_last, write);
        return _last;
    }

    private static async Task AfterAsync(Task previous, Func<Task> write)
    {
        try
        {
            await previous;
        }
        catch (Exception)
        {
            // That write's caller was told (a cancelled one too); this one writes the state as it is now.
        }

        await write();
    }
}
