using System.Buffers;
using System.Text.Json;
using Fabric.Contracts;
using Fabric.Gateway.Http;

namespace Fabric.Gateway.Events;

/// <summary>
/// Writes an event as JSON with its payload spliced in raw: the bytes a producer sent are the bytes a consumer gets,
/// and nothing is parsed twice. Used by the history API and by socket <c>event</c> frames.
/// </summary>
internal static class EventJson
{
    public static void Write(Utf8JsonWriter writer, EventEnvelope e, bool asFrame)
    {
        writer.WriteStartObject();
        if (asFrame)
        {
            writer.WriteString("op"u8, "event"u8);
        }

        writer.WriteNumber("seq"u8, e.Seq);
        writer.WriteString("id"u8, e.Id);
        writer.WriteString("type"u8, e.Type);
        writer.WriteString("source"u8, e.Source);
        writer.WriteString("time"u8, e.Time);
        if (e.IdempotencyKey is not null)
        {
            writer.WriteString("key"u8, e.IdempotencyKey);
        }

        if (e.CloudEvent is { } ce)
        {
            writer.WriteStartObject("ce"u8);
            writer.WriteString("specversion"u8, ce.SpecVersion);
            writer.WriteString("id"u8, ce.Id);
            writer.WriteString("source"u8, ce.Source);
            writer.WriteString("type"u8, e.Type);
            if (ce.Subject is not null)
            {
                writer.WriteString("subject"u8, ce.Subject);
            }

            if (ce.Time is { } time)
            {
                writer.WriteString("time"u8, time);
            }

            if (ce.DataSchema is not null)
            {
                writer.WriteString("dataschema"u8, ce.DataSchema);
            }

            writer.WriteEndObject();
        }

        writer.WritePropertyName("data"u8);
        if (JsonBody.IsJsonMediaType(e.ContentType))
        {
            // Validated as JSON at ingest; re-validating on every delivery would double the cost of fan-out.
            writer.WriteRawValue(e.Data, skipInputValidation: true);
        }
        else
        {
            writer.WriteBase64StringValue(e.Data);
        }

        if (e.TransformError is not null)
        {
            // The source's module failed and its policy kept the event as received.
            writer.WriteString("transformError"u8, e.TransformError);
        }

        if (!asFrame && e.Original is { } original)
        {
            // History only: what a module redacted for sockets must not reach them through the original.
            writer.WritePropertyName("original"u8);
            writer.WriteRawValue(original, skipInputValidation: true);
        }

        writer.WriteEndObject();
    }

    /// <summary>One socket <c>event</c> frame, serialized once and shared by every socket that receives it.</summary>
    public static byte[] Frame(EventEnvelope e)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + e.Data.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, e, asFrame: true);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
