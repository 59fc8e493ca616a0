using System.Diagnostics;
using Fabric.Grains;
using Fabric.Rules.Outbound;
using Microsoft.Extensions.Logging;

namespace Fabric.Outbound.Endpoints;

/// <summary>
/// Writes an endpoint's delivery state and its delivered record, one write after another each, and says when each is
/// due: the delivery state at most once per <see cref="OutboundOptions.SaveInterval"/> while delivering (at once when
/// urgent), the record once per <see cref="OutboundOptions.HistorySaveInterval"/>. Only a saved cursor is ever
/// reported to the customer: a crash goes back to it, and the log must still hold what follows it.
/// </summary>
/// <remarks>Not thread-safe: it runs on its grain's scheduler.</remarks>
internal sealed partial class EndpointStore(
    IPersistentState<EndpointState> state,
    IPersistentState<EndpointHistory> history,
    OutboundOptions options,
    Func<List<Message>> open,
    ILogger logger)
{
    private readonly StateWrites _writes = new();
    private readonly StateWrites _historyWrites = new();
    private bool _dirty;
    private bool _urgent;
    private bool _historyDirty;
    private long _lastSave;
    private long _lastHistorySave;

    /// <summary>The cursor as last written: what a crash goes back to.</summary>
    public long SavedCursor { get; private set; } = -1;

    /// <summary>Something is unsaved, of the delivery state or of the record.</summary>
    public bool Unsaved => _dirty || _historyDirty;

    public void Restored(long cursor) => SavedCursor = cursor;

    /// <summary>The delivery state changed; <paramref name="urgent"/>: save it with the loop's next turn.</summary>
    public void Changed(bool urgent = false)
    {
        _dirty = true;
        _urgent |= urgent;
    }

    public void HistoryChanged() => _historyDirty = true;

    /// <summary>Saves what is due now.</summary>
    public async Task SaveDueAsync()
    {
        if (_dirty && (_urgent || Stopwatch.GetElapsedTime(_lastSave) >= options.SaveInterval))
        {
            await SaveAsync();
        }

        if (_historyDirty && Stopwatch.GetElapsedTime(_lastHistorySave) >= options.HistorySaveInterval)
        {
            await SaveHistoryAsync();
        }
    }

    /// <summary>How long until the next save of what is unsaved, or null when all is saved.</summary>
    public TimeSpan? NextSave()
    {
        TimeSpan? delivery = _dirty ? options.SaveInterval - Stopwatch.GetElapsedTime(_lastSave) : null;
        TimeSpan? record = _historyDirty ? options.HistorySaveInterval - Stopwatch.GetElapsedTime(_lastHistorySave) : null;
        return delivery is { } d && record is { } r ? (d < r ? d : r) : delivery ?? record;
    }

    /// <summary>
    /// Writes the delivery state after the writes under way; the caller returns once a write holding the state as it
    /// was at its call has landed.
    /// </summary>
    public Task SaveAsync() => _writes.WriteAsync(async () =>
    {
        if (state.State.Config is null)
        {
            return;
        }

        state.State.Open = open();
        _dirty = _urgent = false;
        _lastSave = Stopwatch.GetTimestamp();
        var cursor = state.State.Cursor;
        try
        {
            await state.WriteStateAsync();
            SavedCursor = cursor;
        }
        catch
        {
            _dirty = true;
            throw;
        }
    });

    /// <summary>The delivered record, written apart from the delivery state and less often (see <see cref="EndpointHistory"/>).</summary>
    public Task SaveHistoryAsync() => _historyWrites.WriteAsync(async () =>
    {
        if (state.State.Config is null)
        {
            return;
        }

        _historyDirty = false;
        _lastHistorySave = Stopwatch.GetTimestamp();
        try
        {
            await history.WriteStateAsync();
        }
        catch
        {
            _historyDirty = true;
            throw;
        }
    });

    /// <summary>
    /// The saves as the activation ends. A failure is logged: what the delivery state did not save is delivered again
    /// from the saved cursor (at-least-once); what the delivered record did not save is missing from it.
    /// </summary>
    public async Task SaveLastAsync(string endpoint)
    {
        if (_dirty)
        {
            await SaveLoggedAsync(SaveAsync, endpoint);
        }

        if (_historyDirty)
        {
            await SaveLoggedAsync(SaveHistoryAsync, endpoint);
        }
    }

    /// <summary>Clears the delivery state after the writes under way (an endpoint that could not be made whole).</summary>
    public Task ClearStateAsync() => _writes.WriteAsync(state.ClearStateAsync);

    /// <summary>Clears both records after the writes under way (one of which may be the record's first).</summary>
    public async Task ClearAsync()
    {
        await _writes.WriteAsync(state.ClearStateAsync);
        await _historyWrites.WriteAsync(() => history.RecordExists ? history.ClearStateAsync() : Task.CompletedTask);
    }

    private async Task SaveLoggedAsync(Func<Task> save, string endpoint)
    {
        try
        {
            await save();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.SaveFailed(logger, ex, endpoint);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Saving endpoint {Endpoint} failed; what was not saved is delivered again")]
        public static partial void SaveFailed(ILogger logger, Exception exception, string endpoint);
    }
}
