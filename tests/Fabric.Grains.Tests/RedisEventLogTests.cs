using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
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
        var port = FreePort();
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

    [Fact]
    public async Task Appended_events_read_back_byte_for_byte_in_seq_order()
    {
        var customer = Events.NewCustomer();
        await _log.AppendAsync(customer, [Envelope(customer, 1), Envelope(customer, 2)]);
        await _log.AppendAsync(customer, [Envelope(customer, 3)]);

        var events = await _log.ReadAsync(customer, 1, 10);
        Assert.Equal(new long[] { 2, 3 }, events.Select(e => e.Seq));
        Assert.Equal(Envelope(customer, 2).Data, events[0].Data);
        Assert.Equal(new LogHead(1, 3), await _log.ReadHeadAsync(customer));
    }

    [Fact]
    public async Task A_batch_that_does_not_continue_the_log_is_refused_and_changes_nothing()
    {
        // What a stale duplicate activation would try after another one moved the log on.
        var customer = Events.NewCustomer();
        await _log.AppendAsync(customer, [Envelope(customer, 1), Envelope(customer, 2)]);

        Assert.Contains("FABRIC_SEQ", (await Assert.ThrowsAsync<LogUnavailableException>(async () => await _log.AppendAsync(customer, [Envelope(customer, 2), Envelope(customer, 3)]))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<LogUnavailableException>(async () => await _log.AppendAsync(customer, [Envelope(customer, 4)]));
        Assert.Equal(new LogHead(1, 2), await _log.ReadHeadAsync(customer));
    }

    [Fact]
    public async Task Trim_drops_beyond_the_count_and_before_the_cutoff_and_the_seq_survives_an_empty_log()
    {
        var customer = Events.NewCustomer();
        var old = DateTimeOffset.UtcNow.AddHours(-2);
        await _log.AppendAsync(customer, [.. Enumerable.Range(1, 5).Select(i => Envelope(customer, i, old)), .. Enumerable.Range(6, 10).Select(i => Envelope(customer, i))]);

        Assert.Equal(new LogHead(6, 15), await _log.TrimAsync(customer, 100, DateTimeOffset.UtcNow.AddHours(-1)));
        Assert.Equal(new LogHead(12, 15), await _log.TrimAsync(customer, 4, DateTimeOffset.UtcNow.AddHours(-1)));
        Assert.Equal(new LogHead(16, 15), await _log.TrimAsync(customer, 100, DateTimeOffset.UtcNow.AddHours(1)));

        Assert.Equal(new LogHead(16, 15), await _log.ReadHeadAsync(customer));
        await _log.AppendAsync(customer, [Envelope(customer, 16)]);
        Assert.Equal(new long[] { 16 }, (await _log.ReadAsync(customer, 0, 10)).Select(e => e.Seq));
    }

    [Fact]
    public async Task Keys_are_kept_with_their_events_read_back_newest_first_bounded_and_outlive_the_events()
    {
        var customer = Events.NewCustomer();
        var old = DateTimeOffset.UtcNow.AddHours(-2);
        await _log.AppendAsync(customer, [.. Enumerable.Range(1, 3).Select(i => Envelope(customer, i, old)), .. Enumerable.Range(4, 3).Select(i => Envelope(customer, i))]);
        await _log.TrimAsync(customer, 1, DateTimeOffset.UtcNow.AddHours(-1));

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
            await _log.AppendAsync(customer, [.. Enumerable.Range(from, 500).Select(i => Envelope(customer, i, start.AddMilliseconds(i)))]);
        }

        await _log.TrimKeysAsync(customer, DateTimeOffset.UtcNow.AddHours(-1), 100);
        var left = await _log.ReadKeysAsync(customer, DateTimeOffset.UtcNow.AddHours(-1), 10_000);
        Assert.Equal(Enumerable.Range(2401, 100).Select(i => $"k{i}"), left.Select(k => k.Key));
    }

    private static EventEnvelope Envelope(string customer, long seq, DateTimeOffset? time = null) => new(
        $"evt_{seq}", seq, customer, "test", "test.event", time ?? DateTimeOffset.UtcNow, "application/json",
        System.Text.Encoding.UTF8.GetBytes($"{{\"n\":{seq}}}"), $"k{seq}", null);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
