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
    public static byte[] Of(EventEnvelope e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var buffer = new ArrayBufferWriter<byte>(e.Data.Length + 256);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
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
        }

        return buffer.WrittenSpan.ToArray();
    }
}
