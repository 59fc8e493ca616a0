using System.Buffers.Binary;
using System.Text;
using Fabric.Contracts;

namespace Fabric.Grains.Log;

/// <summary>
/// An event as flat bytes, for logs that keep events outside the garbage collector's object graph. Everything but the
/// customer, which the log that holds the record already knows. Strings are UTF-8 behind a length; a null string or
/// array is length -1; times are UTC ticks and an offset in minutes. Only this process reads what it writes, so the
/// layout carries no version.
/// </summary>
public static class EventRecord
{
    public static int SizeOf(EventEnvelope e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var size = sizeof(long) + TimeSize + Str(e.Id) + Str(e.Source) + Str(e.Type) + Str(e.ContentType) + Bytes(e.Data)
            + Str(e.IdempotencyKey) + Str(e.TraceParent) + Str(e.TransformError) + Bytes(e.Original) + 1;
        if (e.CloudEvent is { } ce)
        {
            size += Str(ce.Id) + Str(ce.Source) + Str(ce.SpecVersion) + Str(ce.Subject) + 1 + (ce.Time is null ? 0 : TimeSize) + Str(ce.DataSchema);
        }

        return size;

        static int Str(string? s) => sizeof(int) + (s is null ? 0 : Encoding.UTF8.GetByteCount(s));
        static int Bytes(byte[]? b) => sizeof(int) + (b?.Length ?? 0);
    }

    /// <summary>Writes <paramref name="e"/> into exactly <see cref="SizeOf"/> bytes of <paramref name="into"/>.</summary>
    public static void Write(EventEnvelope e, Span<byte> into)
    {
        ArgumentNullException.ThrowIfNull(e);
        var w = new Writer(into);
        w.Long(e.Seq);
        w.Time(e.Time);
        w.String(e.Id);
        w.String(e.Source);
        w.String(e.Type);
        w.String(e.ContentType);
        w.Bytes(e.Data);
        w.String(e.IdempotencyKey);
        w.String(e.TraceParent);
        w.String(e.TransformError);
        w.Bytes(e.Original);
        w.Byte(e.CloudEvent is null ? (byte)0 : (byte)1);
        if (e.CloudEvent is { } ce)
        {
            w.String(ce.Id);
            w.String(ce.Source);
            w.String(ce.SpecVersion);
            w.String(ce.Subject);
            w.Byte(ce.Time is null ? (byte)0 : (byte)1);
            if (ce.Time is { } time)
            {
                w.Time(time);
            }

            w.String(ce.DataSchema);
        }
    }

    /// <summary>Reads back what <see cref="Write"/> wrote, as an event of <paramref name="customer"/>.</summary>
    public static EventEnvelope Read(ReadOnlySpan<byte> from, string customer)
    {
        var r = new Reader(from);
        var seq = r.Long();
        var time = r.Time();
        var id = r.String()!;
        var source = r.String()!;
        var type = r.String()!;
        var contentType = r.String()!;
        var data = r.Bytes()!;
        var key = r.String();
        var traceParent = r.String();
        var transformError = r.String();
        var original = r.Bytes();
        CloudEventAttributes? cloudEvent = null;
        if (r.Byte() == 1)
        {
            var ceId = r.String()!;
            var ceSource = r.String()!;
            var specVersion = r.String()!;
            var subject = r.String();
            DateTimeOffset? ceTime = r.Byte() == 1 ? r.Time() : null;
            cloudEvent = new CloudEventAttributes(ceId, ceSource, specVersion, subject, ceTime, r.String());
        }

        return new EventEnvelope(id, seq, customer, source, type, time, contentType, data, key, traceParent, cloudEvent, transformError, original);
    }

    private const int TimeSize = sizeof(long) + sizeof(short);

    private ref struct Writer(Span<byte> into)
    {
        private Span<byte> _rest = into;

        public void Byte(byte value)
        {
            _rest[0] = value;
            _rest = _rest[1..];
        }

        public void Long(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_rest, value);
            _rest = _rest[sizeof(long)..];
        }

        public void Time(DateTimeOffset value)
        {
            Long(value.UtcTicks);
            BinaryPrimitives.WriteInt16LittleEndian(_rest, (short)value.TotalOffsetMinutes);
            _rest = _rest[sizeof(short)..];
        }

        public void String(string? value)
        {
            if (value is null)
            {
                Length(-1);
                return;
            }

            var written = Encoding.UTF8.GetBytes(value, _rest[sizeof(int)..]);
            Length(written);
            _rest = _rest[written..];
        }

        public void Bytes(byte[]? value)
        {
            Length(value?.Length ?? -1);
            if (value is not null)
            {
                value.CopyTo(_rest);
                _rest = _rest[value.Length..];
            }
        }

        private void Length(int length)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_rest, length);
            _rest = _rest[sizeof(int)..];
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> from)
    {
        private ReadOnlySpan<byte> _rest = from;

        public byte Byte()
        {
            var value = _rest[0];
            _rest = _rest[1..];
            return value;
        }

        public long Long()
        {
            var value = BinaryPrimitives.ReadInt64LittleEndian(_rest);
            _rest = _rest[sizeof(long)..];
            return value;
        }

        public DateTimeOffset Time()
        {
            var ticks = Long();
            var offset = TimeSpan.FromMinutes(BinaryPrimitives.ReadInt16LittleEndian(_rest));
            _rest = _rest[sizeof(short)..];
            return new DateTimeOffset(ticks + offset.Ticks, offset);
        }

        public string? String()
        {
            var length = Length();
            if (length < 0)
            {
                return null;
            }

            var value = Encoding.UTF8.GetString(_rest[..length]);
            _rest = _rest[length..];
            return value;
        }

        public byte[]? Bytes()
        {
            var length = Length();
            if (length < 0)
            {
                return null;
            }

            var value = _rest[..length].ToArray();
            _rest = _rest[length..];
            return value;
        }

        private int Length()
        {
            var value = BinaryPrimitives.ReadInt32LittleEndian(_rest);
            _rest = _rest[sizeof(int)..];
            return value;
        }
    }
}
