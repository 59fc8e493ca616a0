using System.Diagnostics;

namespace Fabric.Outbound.Endpoints;

/// <summary>What keeps an endpoint's work across activations and silos: its state writes and its reminder.</summary>
internal sealed partial class EndpointGrain
{
    /// <summary>
    /// One write after another (the delivery loop and calls both save); each caller returns once a write holding the
    /// state as it was at its call has landed.
    /// </summary>
    private Task SaveAsync() => _writes.WriteAsync(async () =>
    {
        if (State.Config is null)
        {
            return;
        }

        State.Open = [.. _open.Values];
        _dirty = _urgent = false;
        _lastSave = Stopwatch.GetTimestamp();
        var cursor = State.Cursor;
        try
        {
            await _state.WriteStateAsync();
            _savedCursor = cursor;
        }
        catch
        {
            _dirty = true;
            throw;
        }
    });

    private readonly Fabric.Grains.StateWrites _writes = new();

    /// <summary>The delivered record, written apart from the delivery state and less often (see <see cref="EndpointHistory"/>).</summary>
    private Task SaveHistoryAsync() => _historyWrites.WriteAsync(async () =>
    {
        if (State.Config is null)
        {
            return;
        }

        _historyDirty = false;
        _lastHistorySave = Stopwatch.GetTimestamp();
        try
        {
            await _history.WriteStateAsync();
        }
        catch
        {
            _historyDirty = true;
            throw;
        }
    });

    private readonly Fabric.Grains.StateWrites _historyWrites = new();
    private bool _historyDirty;
    private long _lastHistorySave;

    /// <summary>
    /// While anything is pending, a reminder ticks every minute (Orleans' shortest): if the activation or its silo is
    /// gone, the tick brings the endpoint back to deliver. Registered here when work appears; dropped by the first tick
    /// that finds nothing pending (not here, so a quiet endpoint does not write its reminder twice per event).
    /// </summary>
    private async Task KeepReminderAsync()
    {
        if (!_reminderOn && HasWork)
        {
            try
            {
                await this.RegisterOrUpdateReminder(DeliverReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
                _reminderOn = true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.ReminderFailed(_logger, ex, Key.Endpoint);
            }
        }
    }

    private bool HasWork => _inFlight > 0 || (State.Config is { Enabled: true } && (_open.Count > 0 || State.Manual.Count > 0 || State.ReadThrough < _knownLast));

    private async Task StopReminderAsync()
    {
        try
        {
            if (await this.GetReminder(DeliverReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            _reminderOn = false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.ReminderFailed(_logger, ex, Key.Endpoint);
        }
    }
}
