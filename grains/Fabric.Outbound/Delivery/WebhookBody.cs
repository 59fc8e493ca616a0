using System.Buffers;
using System.Text.Json;
using Fabric.Contracts;

namespace Fabric.Outbound.Delivery;

/// <summary>
/// The body every endpoint receives: the event envelope as JSON (<c>id</c>, <c>seq</c>, <c>type</c>, <c>source</c>,
/// <c>time</c>, <c>data</c>), the payload spliced in raw — exactly the bytes the producer sent, never re-serialized.
/// </summary>
public static class WebhookBody
{
    // Per thread and reused: the body is built synchronously, once per attempt, for every endpoint.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    // A buffer grown past this by a large event is not kept.
    private const int KeptBufferBytes = 64 * 1024;

    public static byte[] Of(EventEnvelope e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var json = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        json.Reset(buffer);
        json.WriteStartObject();
        json.WriteString("id", e.Id);
        json.WriteNumber("seq", e.Seq);
        json.WriteString("type", e.Type);
        json.WriteString("source", e.Source);
        json.WriteString("time", e.Time);
        json.WritePropertyName("data");
        if (e.Data.Length == 0)
        {
            json.WriteNullValue();
        }
        else
        {
            json.WriteRawValue(e.Data, skipInputValidation: true);
        }

        json.WriteEndObject();
        json.Flush();
        var body = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > KeptBufferBytes)
        {
            t_buffer = null;
            t_writer = null;
        }

        return body;
    }
}
