using System.Text;
using Fabric.Contracts;
using Fabric.Grains.Log;

namespace Fabric.Grains.Tests;

/// <summary>The embedded log keeps events as bytes: what it gives back must be the event it was given, field for field.</summary>
public sealed class RetainedEventsTests
{
    private static readonly DateTimeOffset Accepted = new(2026, 12, 7, 15, 4, 5, 678, TimeSpan.Zero);

    [Fact]
    public void An_event_with_every_field_set_reads_back_equal()
    {
        var e = Event(1) with
        {
            IdempotencyKey = "key-ü-1",
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            CloudEvent = new CloudEventAttributes("ce-1", "/orders", "1.0", "order/42", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(-5)), "https://schema/x"),
            TransformError = "fuel",
            Original = Encoding.UTF8.GetBytes("{\"raw\":true}"),
        };

        var back = RoundTrip(e);

        AssertSame(e, back);
        // DateTimeOffset equality compares instants only.
        Assert.Equal(TimeSpan.FromHours(-5), back.CloudEvent!.Time!.Value.Offset);
    }

    [Fact]
    public void Absent_fields_stay_absent_and_empty_ones_stay_empty()
    {
        var e = Event(7) with
        {
            Data = [],
            IdempotencyKey = "",
            CloudEvent = new CloudEventAttributes("ce", "s", "1.0", Subject: null, Time: null, DataSchema: null),
        };

        var back = RoundTrip(e);

        AssertSame(e, back);
        Assert.Null(back.TraceParent);
        Assert.Null(back.Original);
        Assert.Equal("", back.IdempotencyKey);
    }

    [Fact]
    public void A_time_keeps_its_offset()
    {
        var e = Event(1) with { Time = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.FromMinutes(330)) };

        var back = RoundTrip(e);

        Assert.Equal(e.Time, back.Time);
        Assert.Equal(e.Time.Offset, back.Time.Offset);
    }

    [Fact]
    public void Events_come_back_in_seq_order_across_chunks_and_an_event_larger_than_a_chunk()
    {
        var kept = new RetainedEvents("c-1");
        var events = Enumerable.Range(1, 3_000)
            .Select(i => Event(i, new string('x', i == 1_500 ? RetainedEvents.MaxChunkBytes + 10 : i % 700)))
            .ToList();

        foreach (var e in events)
        {
            kept.Add(e);
        }

        Assert.Equal(3_000, kept.Count);
        Assert.Equal(events.Sum(EventSize.Of), kept.Bytes);
        for (var i = 0; i < events.Count; i++)
        {
            AssertSame(events[i], kept.Read(i));
        }
    }

    [Fact]
    public void Dropping_the_oldest_frees_their_chunks_and_an_emptied_log_holds_nothing()
    {
        var kept = new RetainedEvents("c-1");
        for (var i = 1; i <= 5_000; i++)
        {
            kept.Add(Event(i, new string('y', 500)));
        }

        var full = kept.ChunkBytes;
        for (var i = 0; i < 4_900; i++)
        {
            kept.DropOldest();
        }

        Assert.Equal(100, kept.Count);
        Assert.Equal(4_901, kept.FirstSeq);
        Assert.Equal(4_901, kept.Read(0).Seq);
        // The chunk being written and one spare for the next.
        Assert.True(kept.ChunkBytes <= 2L * RetainedEvents.MaxChunkBytes, $"{kept.ChunkBytes} of {full} bytes still held");

        while (kept.Count > 0)
        {
            kept.DropOldest();
        }

        Assert.Equal(0, kept.ChunkBytes);
        Assert.Equal(0, kept.Bytes);
        Assert.Equal(5_001, kept.FirstSeq);
        kept.Add(Event(5_001));
        AssertSame(Event(5_001), kept.Read(0));
    }

    [Fact]
    public void A_log_at_its_retention_reuses_the_chunks_it_frees()
    {
        var kept = new RetainedEvents("c-1");
        var events = Enumerable.Range(1, 16_000).Select(i => Event(i, new string('z', 1_000))).ToList();
        foreach (var e in events.Take(2_000))
        {
            kept.Add(e);
        }

        // Past the first chunks (small ones, and full-size ones made before any was freed), a steady log allocates none.
        foreach (var e in events.Skip(2_000).Take(4_000))
        {
            kept.Add(e);
            kept.DropOldest();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var e in events.Skip(6_000))
        {
            kept.Add(e);
            kept.DropOldest();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < RetainedEvents.MaxChunkBytes, $"{allocated:N0} bytes allocated while 10 MB of events went through");
        AssertSame(events[^1], kept.Read(kept.Count - 1));
    }

    private static EventEnvelope RoundTrip(EventEnvelope e)
    {
        var bytes = new byte[EventRecord.SizeOf(e)];
        EventRecord.Write(e, bytes);
        return EventRecord.Read(bytes, e.Customer);
    }

    private static EventEnvelope Event(long seq, string pad = "") => new(
        "evt_" + seq, seq, "c-1", "stripe", "invoice.paid", Accepted.AddTicks(seq), "application/json",
        Encoding.UTF8.GetBytes("{\"n\":" + seq + ",\"pad\":\"" + pad + "\",\"é\":\"ß\"}"), null, null);

    // Records compare their arrays by reference; an event read back has its own arrays.
    private static void AssertSame(EventEnvelope expected, EventEnvelope actual)
    {
        Assert.Equal(expected with { Data = [], Original = null }, actual with { Data = [], Original = null });
        Assert.Equal(expected.Data, actual.Data);
        Assert.Equal(expected.Original, actual.Original);
    }
}
