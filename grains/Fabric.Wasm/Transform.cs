using System.Buffers;
using System.Text.Json;
using Fabric.Contracts;

namespace Fabric.Wasm;

/// <summary>Where a module runs: on ingest (per source, before the append) or outbound (per endpoint, on the body).</summary>
public enum TransformStage
{
    Ingest,
    Outbound,
}

/// <summary>What happens to an event when its module fails (traps, runs out, returns something invalid).</summary>
public enum ErrorPolicy
{
    /// <summary>The event goes on unchanged, marked with the error's kind.</summary>
    Keep,

    /// <summary>The event is dropped.</summary>
    Drop,

    /// <summary>Ingest answers 422 and stores nothing; outbound fails the message (retryable once the module is fixed).</summary>
    Reject,
}

/// <summary>An event as a module sees it. <paramref name="Seq"/> is null on ingest (not assigned yet).</summary>
public readonly record struct TransformInput(string Id, long? Seq, string Type, string Source, DateTimeOffset Time, ReadOnlyMemory<byte> Data, bool DataIsJson);

/// <summary>What a module decided.</summary>
public enum TransformAction
{
    Keep,
    Drop,
    Replace,
    Error,
}

/// <summary>
/// A module's verdict: keep, drop, replace (a new <see cref="Type"/> and/or <see cref="Data"/>, JSON), or an error with
/// its kind and message. An error is already resolved by the attachment's policy into <see cref="Resolved"/>.
/// </summary>
public sealed record TransformOutcome(TransformAction Action, string? Type = null, byte[]? Data = null, TransformError? Error = null)
{
    public static readonly TransformOutcome Keep = new(TransformAction.Keep);
    public static readonly TransformOutcome Drop = new(TransformAction.Drop);

    /// <summary>For an error, what the policy says to do: keep, drop, or reject (an error that stands).</summary>
    public TransformAction Resolved { get; init; } = Action;
}

/// <summary>One failed call: when, what kind (fuel, deadline, trap, result, output, init), the trap message, the event id — never the payload.</summary>
public sealed record TransformError(DateTimeOffset Time, string Kind, string Message, string? EventId);

/// <summary>
/// An attachment's counters since it was loaded on this activation (<c>Since</c>): calls, what they decided, errors,
/// fuel, and <c>Micros</c>, the wall-clock time in the module (writing the input, the calls, reading the result).
/// </summary>
public sealed record TransformCounters(long Calls, long Kept, long Dropped, long Replaced, long Errors, long Fuel, DateTimeOffset Since, long Micros);

/// <summary>
/// A module attached to one source or endpoint, as its grain activation runs it: one warm sandbox, replaced after any
/// error; the error policy; counters and the last errors. Not thread-safe: called on the grain's turn, one event at a
/// time, so an event is handled by this module whole (a hot swap replaces the whole object between two events).
/// </summary>
public sealed class Transform : IDisposable
{
    private readonly WasmRuntime _runtime;
    private readonly TransformStage _stage;
    private readonly TimeProvider _time;
    private readonly Queue<TransformError> _errors = new();
    private readonly ArrayBufferWriter<byte> _input = new(1024);
    private readonly KeyValuePair<string, object?> _stageTag;
    private Sandbox? _sandbox;
    private long _calls, _kept, _dropped, _replaced, _failed, _fuel, _ticks;

    public Transform(WasmRuntime runtime, PreparedModule prepared, ErrorPolicy onError, TransformStage stage, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(prepared);
        _runtime = runtime;
        Module = prepared.Module;
        _sandbox = prepared.Sandbox;
        Logs = prepared.Sandbox.Sink;
        OnError = onError;
        _stage = stage;
        _time = time;
        Logs.Time = time;
        Since = time.GetUtcNow();
        _stageTag = new("stage", stage == TransformStage.Ingest ? "ingest" : "outbound");
    }

    /// <summary>A module attached before (loaded by a new activation): compiled or taken from the cache, started at its first event.</summary>
    public Transform(WasmRuntime runtime, CompiledModule module, ErrorPolicy onError, TransformStage stage, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        _runtime = runtime;
        Module = module;
        Logs = new LogSink(runtime.Options) { Time = time };
        OnError = onError;
        _stage = stage;
        _time = time;
        Since = time.GetUtcNow();
        _stageTag = new("stage", stage == TransformStage.Ingest ? "ingest" : "outbound");
    }

    public CompiledModule Module { get; }

    public ErrorPolicy OnError { get; }

    public LogSink Logs { get; }

    public DateTimeOffset Since { get; }

    public TransformCounters Counters => new(_calls, _kept, _dropped, _replaced, _failed, _fuel, Since, _ticks / TimeSpan.TicksPerMicrosecond);

    /// <summary>The newest errors, newest first.</summary>
    public IReadOnlyList<TransformError> RecentErrors => [.. _errors.Reverse()];

    /// <summary>Runs the module on one event; an error comes back resolved by the policy (<see cref="TransformOutcome.Resolved"/>).</summary>
    public TransformOutcome Apply(in TransformInput input)
    {
        _calls++;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        TransformOutcome outcome;
        try
        {
            _sandbox ??= Sandbox.Create(_runtime, Module, Logs);
            WriteInput(input);
            var result = _sandbox.Call(_input.WrittenSpan, out var memory);
            _fuel += _sandbox.LastFuel;
            WasmTelemetry.Fuel.Record(_sandbox.LastFuel, _stageTag);
            outcome = Decode(result);
        }
        catch (SandboxException ex)
        {
            if (_sandbox is not null)
            {
                _fuel += _sandbox.LastFuel;
            }

            // A trapped instance may have broken its own memory: the next event gets a fresh one (and its init).
            _sandbox?.Dispose();
            _sandbox = null;
            outcome = Failed(ex.Kind, ex.Message, input.Id);
        }

        _ticks += System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks;
        switch (outcome.Resolved)
        {
            case TransformAction.Keep:
                _kept++;
                break;
            case TransformAction.Drop:
                _dropped++;
                break;
            case TransformAction.Replace:
                _replaced++;
                break;
        }

        WasmTelemetry.Calls.Add(1, _stageTag, new("outcome", outcome.Action.ToString().ToLowerInvariant()));
        return outcome;
    }

    private TransformOutcome Failed(string kind, string message, string? eventId)
    {
        _failed++;
        WasmTelemetry.Errors.Add(1, _stageTag, new("kind", kind));
        var error = new TransformError(_time.GetUtcNow(), kind, message, eventId);
        _errors.Enqueue(error);
        while (_errors.Count > _runtime.Options.RecentEntries)
        {
            _errors.Dequeue();
        }

        return new TransformOutcome(TransformAction.Error, Error: error)
        {
            Resolved = OnError switch { ErrorPolicy.Keep => TransformAction.Keep, ErrorPolicy.Drop => TransformAction.Drop, _ => TransformAction.Error },
        };
    }

    private void WriteInput(in TransformInput input)
    {
        _input.ResetWrittenCount();
        using var json = new Utf8JsonWriter(_input, new JsonWriterOptions { SkipValidation = true });
        json.WriteStartObject();
        json.WriteString("id"u8, input.Id);
        if (input.Seq is { } seq)
        {
            json.WriteNumber("seq"u8, seq);
        }

        json.WriteString("type"u8, input.Type);
        json.WriteString("source"u8, input.Source);
        json.WriteString("time"u8, input.Time);
        json.WritePropertyName("data"u8);
        if (input.Data.IsEmpty)
        {
            json.WriteNullValue();
        }
        else if (input.DataIsJson)
        {
            // Validated as JSON when it was received.
            json.WriteRawValue(input.Data.Span, skipInputValidation: true);
        }
        else
        {
            json.WriteBase64StringValue(input.Data.Span);
        }

        json.WriteEndObject();
    }

    /// <summary>0 drop, 1 keep, (ptr &lt;&lt; 32) | len a JSON object replacing <c>type</c> and/or <c>data</c>; negative an error.</summary>
    private TransformOutcome Decode(long result)
    {
        switch (result)
        {
            case 0:
                return TransformOutcome.Drop;
            case 1:
                return TransformOutcome.Keep;
            case < 0:
                throw new SandboxException("result", $"handle returned {result}.");
        }

        var ptr = (int)(result >>> 32);
        var length = (int)(result & 0xFFFF_FFFF);
        if (length > _runtime.Options.MaxOutputBytes)
        {
            throw new SandboxException("output", $"The result is {length} bytes; the largest accepted is {_runtime.Options.MaxOutputBytes} (Fabric:Wasm:MaxOutputBytes).");
        }

        if (length == 0)
        {
            throw new SandboxException("result", $"handle returned {result}: a result pointer with length 0.");
        }

        return Parse(_sandbox!.Span(ptr, length, "result"));
    }

    private static TransformOutcome Parse(ReadOnlySpan<byte> output)
    {
        string? type = null;
        byte[]? data = null;
        try
        {
            var reader = new Utf8JsonReader(output, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new SandboxException("result", "The result must be a JSON object {\"type\"?, \"data\"?}.");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new SandboxException("result", "The result's type must be a string.");
                    }

                    type = reader.GetString();
                    if (!EventNames.IsValidType(type))
                    {
                        throw new SandboxException("result", "The result's type must be 1-200 printable ASCII characters without spaces or '*'.");
                    }
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    data = output[start..(int)reader.BytesConsumed].ToArray();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            // The rest must be the end of that object, and nothing after it.
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                throw new SandboxException("result", "The result must be one JSON object.");
            }
        }
        catch (JsonException)
        {
            throw new SandboxException("result", "The result is not valid JSON.");
        }

        return type is null && data is null ? TransformOutcome.Keep : new TransformOutcome(TransformAction.Replace, type, data);
    }

    public void Dispose()
    {
        _sandbox?.Dispose();
        _sandbox = null;
    }
}
