using System.Text;
using Fabric.Rules.Wasm;

namespace Fabric.Wasm;

/// <summary>
/// Where a module's <c>fabric.log</c> lines go: kept with its attachment for the admin API, never into Fabric's own
/// logs — a module may log anything, payloads included, and Fabric's logs never carry a payload.
/// </summary>
public sealed class LogSink(WasmOptions options)
{
    private readonly Queue<ModuleLogLine> _lines = new();

    public long Count { get; private set; }

    /// <summary>The newest lines, newest first.</summary>
    public IReadOnlyList<ModuleLogLine> Recent
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines.Reverse()];
            }
        }
    }

    internal TimeProvider Time { get; set; } = TimeProvider.System;

    internal void Write(int level, ReadOnlySpan<byte> text)
    {
        var line = new ModuleLogLine(Time.GetUtcNow(), level switch { <= 0 => "debug", 1 => "info", 2 => "warn", _ => "error" }, Encoding.UTF8.GetString(text));
        lock (_lines)
        {
            Count++;
            _lines.Enqueue(line);
            while (_lines.Count > options.RecentEntries)
            {
                _lines.Dequeue();
            }
        }
    }
}

/// <summary>One <c>fabric.log</c> line (cut to <see cref="WasmOptions.MaxMessageBytes"/>).</summary>
public sealed record ModuleLogLine(DateTimeOffset Time, string Level, string Message);
