using System.Diagnostics;
using Fabric.Contracts;
using Fabric.Grains.Log;
using Fabric.Grains.Redis;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using StackExchange.Redis;

namespace Fabric.Grains.Tests;

/// <summary>The durable log against a real redis-server started for these tests (Debian's; .ci/run installs it).</summary>
public sealed class RedisEventLogTests : IAsyncLifetime
{
    private Process? _redis;
    private ConnectionMultiplexer? _connection;
    private RedisEventLog _log = null!;

    public async Task InitializeAsync()
    {
        var port = Ports.Free();
        _redis = Process.Start(new ProcessStartInfo("redis-server", $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no")
        {
            RedirectStandardOutput = true,
        })!;
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer<EventEnvelope>>();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                _connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}");
                break;
            }
            catch (RedisConnectionException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }

        _log = new RedisEventLog(_connection, serializer);
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _redis?.Kill();
        _redis?.Dispose();
    }

    private static readonly LogEpoch Epoch = new("test-epoch", 0);

    [Fact]
    public async Task Appended_events_read_back_byte_for_byte_in_seq_order()
    {
        var customer = Events.NewCustomer();
        await _log.AppendAsync(customer, Epoch, [Envelope(customer, 1), Envelope(customer, 2)]);
        await _log.AppendAsync(customer, Epoch, [Envelope(customer, 3)]);

        var events = await _log.ReadAsync(customer, 1, 10, long.MaxValue);
        Assert.Equal(new long[] { 2, 3 }, events.Select(e => e.Seq));
        Assert.Equal(Envelope(customer, 2).Data, events[0].Data);
        Assert.Equal(new LogHead(1, 3, Epoch), await _log.ReadHeadAsync(customer));
    }

    [Fact]
    public async Task A_batch_that_does_not_continue_the_log_is_refused_and_changes_nothing()
    {
        // What a stale duplicate activation would try after another one moved the log on.
        var customer = Events.NewCustomer();
        await _log.AppendAsync(customer, Epoch, [Envelope(customer, 1), Envelope(customer, 2)]);

        Assert.Contains("FABRIC_SEQ", (await Assert.ThrowsAsync<LogUnavailableException>(async () => await _log.AppendAsync(customer, Epoch, [Envelope(customer, 2), Envelope(customer, 3)]))).Message, StringComparison.Ordinal);
        Assert.Contains("FABRIC_EPOCH", (await Assert.ThrowsAsync<LogUnavailableException>(async () => await _log.AppendAsync(customer, new LogEpoch("other", 0), [Envelope(customer, 3)]))).Message, StringComparison.Ordinal);
        Assert.Equal(new LogHead(1, 2, Epoch), await _log.ReadHeadAsync(customer));
    }

    [Fact]
    public async Task Trim_drops_beyond_the_count_and_before_the_cutoff_and_the_seq_survives_an_empty_log()
    {
        var customer = Events.NewCustomer();
        var old = DateTimeOffset.UtcNow.AddHours(-2);
        // Age and bytes are trimmed in whole log writes: the old events are one write, the new ones another.
        await _log.AppendAsync(customer, Epoch, [.. Enumerable.Range(1, 5).Select(i => Envelope(customer, i, old))]);
        await _log.AppendAsync(customer, Epoch, [.. Enumerable.Range(6, 10).Select(i => Envelope(customer, i))]);

        Assert.Equal(new LogHead(6, 15, Epoch), await _log.TrimAsync(customer, Limits(100, DateTimeOffset.UtcNow.AddHours(-1))));
        Assert.Equal(new LogHead(12, 15, Epoch), await _log.TrimAsync(customer, Limits(4, DateTimeOffset.UtcNow.AddHours(-1))));
        Assert.Equal(new LogHead(16, 15, Epoch), await _log.TrimAsync(customer, Limits(100, DateTimeOffset.UtcNow.AddHours(1))));

        Assert.Equal(new LogHead(16, 15, Epoch), await _log.ReadHeadAsync(customer));
        await _log.AppendAsync(customer, Epoch, [Envelope(customer, 16)]);
        Assert.Equal(new long[] { 16 }, (await _log.ReadAsync(customer, 0, 10, long.MaxValue)).Select(e => e.Seq));
    }

    [Fact]
    public async Task Retention_by_bytes_drops_the_oldest_writes_beyond_the_byte_limit()
    {
        var customer = Events.NewCustomer();
        // Ten writes of one 10 KiB event each; keep 35 KiB: the newest three writes stay.
        for (var seq = 1; seq <= 10; seq++)
        {
            await _log.AppendAsync(customer, Epoch, [Envelope(customer, seq, padding: 10 * 1024)]);
        }

        var head = await _log.TrimAsync(customer, new RetentionLimits(1000, 35 * 1024, DateTimeOffset.MinValue));
        Assert.Equal((8L, 10L), (head.FirstRetainedSeq, head.LastSeq));
        Assert.Equal(new long[] { 8, 9, 10 }, (await _log.ReadAsync(customer, 0, 100, long.MaxValue)).Select(e => e.Seq));
    }

    [Fact]
    public async Task History_page_is_bounded_by_bytes_but_always_holds_one_event()
    {
        var customer = Events.NewCustomer();
        await _log.AppendAsync(customer, Epoch, [.. Enumerable.Range(1, 40).Select(i => Envelope(customer, i, padding: 4 * 1024))]);

        var page = await _log.ReadAsync(customer, 0, 1000, 20 * 1024);
        Assert.Equal(Enumerable.Range(1, 4).Select(i => (long)i), page.Select(e => e.Seq));
        Assert.Single(await _log.ReadAsync(customer, 0, 1000, 1));
        Assert.Equal(40, (await _log.ReadAsync(customer, 0, 1000, long.MaxValue)).Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(100)]
    public async Task A_page_that_fills_its_count_stops_there(int max)
    {
        var customer = Events.NewCustomer();
        await _log.AppendAsync(customer, Epoch, [.. Enumerable.Range(1, 250).Select(i => Envelope(customer, i))]);

        Assert.Equal(Enumerable.Range(1, max).Select(i => (long)i), (await _log.ReadAsync(customer, 0, max, long.MaxValue)).Select(e => e.Seq));
    }

    [Fact]
    public async Task A_log_behind_the_seqs_it_handed_out_forks_to_a_new_epoch_and_refuses_the_write()
    {
        // As a Redis crash under appendfsync everysec leaves it: the last four entries and the seq are gone.
        var customer = Events.NewCustomer();
        for (var seq = 1; seq <= 10; seq++)
        {
            await _log.AppendAsync(customer, Epoch, [Envelope(customer, seq)]);
        }

        await LoseTailAsync(customer, keep: 6);

        // The activation that handed out 1..10 goes on with 11: refused, and the log moves to an epoch forking at 6.
        Assert.Contains("FABRIC_BEHIND", (await Assert.ThrowsAsync<LogUnavailableException>(async () => await _log.AppendAsync(customer, Epoch, [Envelope(customer, 11)]))).Message, StringComparison.Ordinal);
        var head = await _log.ReadHeadAsync(customer);
        Assert.Equal((1L, 6L), (head.FirstRetainedSeq, head.LastSeq));
        Assert.NotEqual(Epoch.Id, head.Epoch!.Id);
        Assert.Equal((6L, Epoch.Id, 1), (head.Epoch.Base, head.Epoch.Previous, head.Epoch.Generation));
        Assert.True(head.Epoch.Covers(Epoch.Id, 6));
        Assert.False(head.Epoch.Covers(Epoch.Id, 7));

        // The next activation writes 7 on under the new epoch; a writer of an unrelated epoch stays fenced out, and
        // cannot fork the log again either.
        await _log.AppendAsync(customer, head.Epoch, [Envelope(customer, 7)]);
        Assert.Contains("FABRIC_EPOCH", (await Assert.ThrowsAsync<LogUnavailableException>(async () => await _log.AppendAsync(customer, new LogEpoch("other", 0), [Envelope(customer, 20)]))).Message, StringComparison.Ordinal);
        Assert.Equal((7L, head.Epoch), ((await _log.ReadHeadAsync(customer)).LastSeq, (await _log.ReadHeadAsync(customer)).Epoch));
    }

    [Fact]
    public async Task Pipelined_writes_land_in_order_and_one_whose_predecessor_failed_is_refused_without_a_fork()
    {
        var customer = Events.NewCustomer();
        // Sent back to back, the second before the first is answered: both land, in order.
        var first = _log.AppendAsync(customer, Epoch, [Envelope(customer, 1), Envelope(customer, 2)]).AsTask();
        var second = _log.AppendAsync(customer, Epoch, [Envelope(customer, 3)], follows: true).AsTask();
        await Task.WhenAll(first, second);
        Assert.Equal(new long[] { 1, 2, 3 }, (await _log.ReadAsync(customer, 0, 10, long.MaxValue)).Select(e => e.Seq));

        // A pipelined write behind one that did not land (seqs 4..5 never written) leaves a gap: refused, and the log
        // stays in its epoch — the same gap from a write that was not pipelined would mean lost data and fork it.
        var refused = await Assert.ThrowsAsync<LogUnavailableException>(async () => await _log.AppendAsync(customer, Epoch, [Envelope(customer, 6)], follows: true));
        Assert.Contains("FABRIC_SEQ", refused.Message, StringComparison.Ordinal);
        var head = await _log.ReadHeadAsync(customer);
        Assert.Equal((3L, Epoch), (head.LastSeq, head.Epoch));
        await _log.AppendAsync(customer, Epoch, [Envelope(customer, 4)]);
        Assert.Equal(4, (await _log.ReadHeadAsync(customer)).LastSeq);
    }

    [Fact]
    public async Task A_fresh_activation_from_a_head_that_lost_entries_is_refused_too()
    {
        // The seq key went back with the entries, but the stream and the index still remember writing beyond it.
        var customer = Events.NewCustomer();
        for (var seq = 1; seq <= 10; seq++)
        {
            await _log.AppendAsync(customer, Epoch, [Envelope(customer, seq)]);
        }

        var db = _connection!.GetDatabase();
        await db.StreamDeleteAsync($"fabric:{{{customer}}}:log", [.. Enumerable.Range(7, 4).Select(i => (RedisValue)$"{i}-0")]);
        await db.StringSetAsync($"fabric:{{{customer}}}:seq", 6);

        await Assert.ThrowsAsync<LogUnavailableException>(async () => await _log.AppendAsync(customer, Epoch, [Envelope(customer, 7)]));
        var head = await _log.ReadHeadAsync(customer);
        Assert.Equal(6, head.Epoch!.Base);
        await _log.AppendAsync(customer, head.Epoch, [Envelope(customer, 7)]);
        Assert.Equal(new long[] { 5, 6, 7 }, (await _log.ReadAsync(customer, 4, 10, long.MaxValue)).Select(e => e.Seq));
    }

    [Fact]
    public async Task Reading_and_trimming_an_unknown_customer_writes_nothing_to_redis()
    {
        var customer = Events.NewCustomer();
        await _log.ReadHeadAsync(customer);
        await _log.ReadAsync(customer, 0, 100, long.MaxValue);
        await _log.TrimAsync(customer, Limits(10, DateTimeOffset.UtcNow));
        await _log.ReadKeysAsync(customer, DateTimeOffset.MinValue, 100);
        await _log.TrimKeysAsync(customer, DateTimeOffset.UtcNow, 10);

        var server = _connection!.GetServer(_connection.GetEndPoints()[0]);
        Assert.Empty(server.Keys(pattern: $"*{customer}*").ToList());
    }

    /// <summary>Deletes the entries after <paramref name="keep"/> and sets the seq back, as a crash restore leaves a log.</summary>
    private async Task LoseTailAsync(string customer, long keep)
    {
        var db = _connection!.GetDatabase();
        var log = $"fabric:{{{customer}}}:log";
        var lost = (await db.StreamRangeAsync(log, $"{keep + 1}-0", "+")).Select(e => e.Id).ToArray();
        await db.StreamDeleteAsync(log, lost);
        await db.ExecuteAsync("XSETID", log, $"{keep}-0");
        await db.KeyDeleteAsync($"fabric:{{{customer}}}:seq");
    }

    private static RetentionLimits Limits(int maxEvents, DateTimeOffset cutoff) => new(maxEvents, long.MaxValue, cutoff);

    [Fact]
    public async Task Keys_are_kept_with_their_events_read_back_newest_first_bounded_and_outlive_the_events()
    {
        var customer = Events.NewCustomer();
        var old = DateTimeOffset.UtcNow.AddHours(-2);
        await _log.AppendAsync(customer, Epoch, [.. Enumerable.Range(1, 3).Select(i => Envelope(customer, i, old)), .. Enumerable.Range(4, 3).Select(i => Envelope(customer, i))]);
        await _log.TrimAsync(customer, Limits(1, DateTimeOffset.UtcNow.AddHours(-1)));

        var all = await _log.ReadKeysAsync(customer, DateTimeOffset.UtcNow.AddHours(-3), 100);
        Assert.Equal(["k1", "k2", "k3", "k4", "k5", "k6"], all.Select(k => k.Key));
        Assert.Equal(("evt_2", 2L, "test"), (all[1].EventId, all[1].Seq, all[1].Source));
        Assert.Equal(["k5", "k6"], (await _log.ReadKeysAsync(customer, DateTimeOffset.UtcNow.AddHours(-3), 2)).Select(k => k.Key));
        Assert.Equal(["k4", "k5", "k6"], (await _log.ReadKeysAsync(customer, DateTimeOffset.UtcNow.AddHours(-1), 100)).Select(k => k.Key));

        await _log.TrimKeysAsync(customer, DateTimeOffset.UtcNow.AddHours(-1), 2);
        Assert.Equal(["k5", "k6"], (await _log.ReadKeysAsync(customer, DateTimeOffset.UtcNow.AddHours(-3), 100)).Select(k => k.Key));
    }

    [Fact]
    public async Task Trimming_keys_catches_up_with_thousands_over_the_bound_in_bounded_steps()
    {
        var customer = Events.NewCustomer();
        // A millisecond apart: keys of the same millisecond are the same age, and Redis orders those by name.
        var start = DateTimeOffset.UtcNow.AddSeconds(-10);
        for (var from = 1; from <= 2500; from += 500)
        {
            await _log.AppendAsync(customer, Epoch, [.. Enumerable.Range(from, 500).Select(i => Envelope(customer, i, start.AddMilliseconds(i)))]);
        }

        await _log.TrimKeysAsync(customer, DateTimeOffset.UtcNow.AddHours(-1), 100);
        var left = await _log.ReadKeysAsync(customer, DateTimeOffset.UtcNow.AddHours(-1), 10_000);
        Assert.Equal(Enumerable.Range(2401, 100).Select(i => $"k{i}"), left.Select(k => k.Key));
    }

    private static EventEnvelope Envelope(string customer, long seq, DateTimeOffset? time = null, int padding = 0) => new(
        $"evt_{seq}", seq, customer, "test", "test.event", time ?? DateTimeOffset.UtcNow, "application/json",
        System.Text.Encoding.UTF8.GetBytes($"{{\"n\":{seq},\"pad\":\"{new string('x', padding)}\"}}"), $"k{seq}", null);
}
