namespace Fabric.Grains.Tests.Parts;

/// <summary>
/// Runs a test body one turn at a time, as a grain's scheduler does: the parts a grain owns are not thread-safe and
/// rely on their continuations and yields coming back to the same one-at-a-time scheduler.
/// </summary>
internal sealed class Turns
{
    private readonly TaskScheduler _scheduler = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;

    /// <summary>Runs <paramref name="body"/> as one turn and gives back what it returned (a task it started is not awaited).</summary>
    public Task<T> Call<T>(Func<T> body) =>
        Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.None, _scheduler);

    /// <summary>Runs <paramref name="body"/> as one turn.</summary>
    public Task Run(Action body) =>
        Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.None, _scheduler);
}

/// <summary>Grain state held in memory, counting its writes; a write can be made to fail.</summary>
internal sealed class MemoryState<T> : IPersistentState<T>
    where T : new()
{
    public T State { get; set; } = new();

    public string? Etag { get; private set; }

    public bool RecordExists { get; private set; }

    public int Writes { get; private set; }

    public Exception? FailWrites { get; set; }

    public Task ClearStateAsync()
    {
        State = new();
        RecordExists = false;
        return Task.CompletedTask;
    }

    public Task WriteStateAsync()
    {
        if (FailWrites is { } failure)
        {
            return Task.FromException(failure);
        }

        Writes++;
        RecordExists = true;
        Etag = Writes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }

    public Task ReadStateAsync() => Task.CompletedTask;
}
