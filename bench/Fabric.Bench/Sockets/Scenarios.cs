using System.Diagnostics;
using System.Globalization;
using Fabric.Bench.Load;

namespace Fabric.Bench.Sockets;

/// <summary>The socket scenarios; each returns one results line (a flat dictionary, written as JSON).</summary>
internal static class Scenarios
{
    /// <summary>
    /// Fan-out: <c>sockets</c> sockets of one customer, then <c>bursts</c> bursts of <c>events</c> posted by 4 workers
    /// (after <c>warm-bursts</c> unmeasured ones of the same size); deliveries/s is every delivery of a burst counted
    /// over the time from its first post to its last delivery, and the line reports the median burst.
    /// </summary>
    /// <remarks>
    /// One burst lasts a second or two. Measured once, right after a warm-up of 100 events, it read the same build at
    /// 390,000 and 760,000 deliveries/s in consecutive starts, and five bursts in a row of one start rose from 460,000
    /// to 1,350,000: it measured how far tiered compilation had got as much as the server. Every server gets the same
    /// warm-up and the same bursts.
    /// </remarks>
    public static async Task<Dictionary<string, object>> FanOutAsync(Target target, Args args)
    {
        var n = args.Int("sockets", 1000);
        var events = args.Int("events", 200);
        var bursts = Math.Max(1, args.Int("bursts", 3));
        using var poster = new Poster(target.PostUrl, args.Int("body-bytes", 128), 8);
        await using var fleet = await SocketFleet.OpenAsync(target, n, 64, args.Int("sources", 8), 8192, CancellationToken.None);
        await WarmAsync(fleet, poster, Math.Min(events, 100));
        for (var w = args.Int("warm-bursts", 5); w > 0; w--)
        {
            await poster.BurstAsync(events, 4);
            await SettleAsync(fleet, long.MaxValue, TimeSpan.FromSeconds(60));
        }

        var expected = (long)events * n;
        var measured = new List<(double PerSecond, double Seconds, long Delivered, bool Complete, Stats Latency)>();
        for (var b = 0; b < bursts; b++)
        {
            fleet.Reset(record: true);
            var started = Stopwatch.GetTimestamp();
            await poster.BurstAsync(events, 4);
            var complete = await SettleAsync(fleet, expected, TimeSpan.FromSeconds(args.Double("timeout", 120)));
            var seconds = Stopwatch.GetElapsedTime(started, Math.Max(fleet.LastDeliveryAt, started + 1)).TotalSeconds;
            measured.Add((fleet.Delivered / seconds, seconds, fleet.Delivered, complete, Stats.From(fleet.SortedLatencies())));
        }

        var median = measured.OrderBy(m => m.PerSecond).ElementAt(measured.Count / 2);
        return new()
        {
            ["sockets"] = n,
            ["events"] = events,
            ["bursts"] = bursts,
            ["expected"] = expected,
            ["delivered"] = median.Delivered,
            ["closes"] = fleet.Closes,
            ["complete"] = measured.TrueForAll(m => m.Complete),
            ["seconds"] = Math.Round(median.Seconds, 3),
            ["deliveries_per_s"] = Math.Round(median.PerSecond),
            ["bursts_per_s"] = measured.Select(m => Math.Round(m.PerSecond)).ToArray(),
            ["p50_ms"] = Math.Round(median.Latency.P50, 3),
            ["p99_ms"] = Math.Round(median.Latency.P99, 3),
            ["max_ms"] = Math.Round(median.Latency.Max, 3),
            ["post_errors"] = poster.Errors,
        };
    }

    /// <summary>
    /// End-to-end latency: a few sockets, events posted open-loop at a fixed rate; every delivery's latency is the
    /// receive time minus the send stamp in its payload.
    /// </summary>
    public static async Task<Dictionary<string, object>> EndToEndAsync(Target target, Args args)
    {
        var n = args.Int("sockets", 1);
        var rate = args.Double("rate", 1000);
        using var poster = new Poster(target.PostUrl, args.Int("body-bytes", 512), 256);
        await using var fleet = await SocketFleet.OpenAsync(target, n, 16, args.Int("sources", 1), 16384, CancellationToken.None);
        await WarmAsync(fleet, poster, 100);
        await poster.AtRateAsync(rate, args.Seconds("warmup", 10), 512);
        await SettleAsync(fleet, long.MaxValue, TimeSpan.FromSeconds(5));

        fleet.Reset(record: true);
        var sentBefore = poster.Sent;
        var duration = args.Seconds("seconds", 10);
        var skipped = await poster.AtRateAsync(rate, duration, 512);
        var expected = (poster.Sent - sentBefore) * n;
        var complete = await SettleAsync(fleet, expected, TimeSpan.FromSeconds(30));
        var sorted = fleet.SortedLatencies();
        var latency = Stats.From(sorted);
        return new()
        {
            ["sockets"] = n,
            ["rate"] = rate,
            ["achieved_rate"] = Math.Round((poster.Sent - sentBefore) / duration.TotalSeconds),
            ["skipped"] = skipped,
            ["delivered"] = fleet.Delivered,
            ["expected"] = expected,
            ["complete"] = complete,
            ["p50_ms"] = Math.Round(latency.P50, 3),
            ["p90_ms"] = Math.Round(latency.P90, 3),
            ["p99_ms"] = Math.Round(latency.P99, 3),
            ["max_ms"] = Math.Round(latency.Max, 3),
            ["cdf_ms"] = Stats.Cdf(sorted).Select(v => Math.Round(v, 3)).ToArray(),
            ["post_errors"] = poster.Errors,
            ["closes"] = fleet.Closes,
        };
    }

    /// <summary>
    /// Chat: <c>sockets</c> sockets of one room, each publishing <c>rate</c> messages a second through its own socket
    /// (open loop, phases spread), every socket receiving every message, its own included. After a warm-up at the same
    /// rate, deliveries/s over the measured seconds and the latency of each delivery (receive time − the stamp made just
    /// before the send).
    /// </summary>
    public static async Task<Dictionary<string, object>> ChatAsync(Target target, Args args)
    {
        var n = args.Int("sockets", 100);
        var rate = args.Double("rate", 5);
        var bytes = args.Int("body-bytes", 256);
        await using var fleet = await SocketFleet.OpenAsync(target, n, 32, args.Int("sources", 8), 16384, CancellationToken.None);
        await ChatAtRateAsync(fleet, target, rate, bytes, args.Seconds("warmup", 10));
        await SettleAsync(fleet, long.MaxValue, TimeSpan.FromSeconds(10));

        fleet.Reset(record: true);
        var duration = args.Seconds("seconds", 10);
        var started = Stopwatch.GetTimestamp();
        var (sent, late) = await ChatAtRateAsync(fleet, target, rate, bytes, duration);
        var expected = sent * n;
        var complete = await SettleAsync(fleet, expected, TimeSpan.FromSeconds(30));
        var seconds = Stopwatch.GetElapsedTime(started, Math.Max(fleet.LastDeliveryAt, started + 1)).TotalSeconds;
        var latency = Stats.From(fleet.SortedLatencies());
        return new()
        {
            ["sockets"] = n,
            ["rate_per_socket"] = rate,
            ["sent"] = sent,
            ["late_sends"] = late,
            ["expected"] = expected,
            ["delivered"] = fleet.Delivered,
            ["complete"] = complete,
            ["closes"] = fleet.Closes,
            ["deliveries_per_s"] = Math.Round(fleet.Delivered / seconds),
            ["p50_ms"] = Math.Round(latency.P50, 3),
            ["p99_ms"] = Math.Round(latency.P99, 3),
            ["max_ms"] = Math.Round(latency.Max, 3),
        };
    }

    /// <summary>
    /// Every socket sends at <paramref name="rate"/>/s for <paramref name="duration"/>, each on its own schedule; a send
    /// that starts more than one interval late is counted (the client, not the server, fell behind).
    /// </summary>
    private static async Task<(long Sent, long Late)> ChatAtRateAsync(SocketFleet fleet, Target target, double rate, int bytes, TimeSpan duration)
    {
        long sent = 0, late = 0;
        var interval = TimeSpan.FromSeconds(1 / rate);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, fleet.Count).Select(i => Task.Run(async () =>
        {
            // Phases spread over one interval, so the room's messages arrive evenly rather than all at once.
            var due = interval * i / fleet.Count;
            for (long k = 0; due < duration; k++, due += interval)
            {
                var wait = due - Stopwatch.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }
                else if (-wait > interval)
                {
                    Interlocked.Increment(ref late);
                }

                await fleet.SendAsync(i, target.ChatFrame(Payload.Make(k, bytes)), CancellationToken.None);
                Interlocked.Increment(ref sent);
            }
        })));
        return (sent, late);
    }

    /// <summary>
    /// Idle sockets: the server's resident memory before and after <c>sockets</c> connected, hand-shaken, idle sockets,
    /// divided by their number. The server's pid comes from the caller, which started it.
    /// </summary>
    public static async Task<Dictionary<string, object>> IdleAsync(Target target, Args args)
    {
        var n = args.Int("sockets", 10_000);
        // The memory curve: sockets opened in steps up to --max (default: just --sockets), RSS read after each.
        var max = Math.Max(n, args.Int("max", n));
        var step = Math.Max(1, args.Int("step", max));
        var pid = args.Int("pid", 0);
        var settle = args.Seconds("settle", 5);
        var stepSettle = TimeSpan.FromTicks(Math.Min(settle.Ticks, TimeSpan.FromSeconds(2).Ticks));

        // Warm the accept and handshake paths (JIT, pools) so that their one-off cost is not charged to the sockets.
        await using (await SocketFleet.OpenAsync(target, 200, 32, 1, 1024, CancellationToken.None))
        {
        }

        await Task.Delay(settle);
        var before = Rss(pid);
        var fleets = new List<SocketFleet>();
        var curve = new List<double[]>();
        long after = 0;
        double openSeconds = 0;
        try
        {
            var clock = Stopwatch.StartNew();
            for (var open = 0; open < max;)
            {
                // Every step stops at --sockets too: the per-socket figure is read there, after the full settle.
                var next = Math.Min(max, open + step);
                next = open < n && next > n ? n : next;
                fleets.Add(await SocketFleet.OpenAsync(target, next - open, 64, args.Int("sources", 8), 1024, CancellationToken.None));
                open = next;
                if (open == n)
                {
                    openSeconds = clock.Elapsed.TotalSeconds;
                }

                await Task.Delay(open == n ? settle : stepSettle);
                var rss = Rss(pid);
                curve.Add([open, Math.Round(rss / 1048576.0, 1)]);
                if (open == n)
                {
                    after = rss;
                }
            }
        }
        finally
        {
            foreach (var fleet in fleets)
            {
                await fleet.DisposeAsync();
            }
        }

        return new()
        {
            ["sockets"] = n,
            ["open_seconds"] = Math.Round(openSeconds, 2),
            ["rss_before_mb"] = Math.Round(before / 1048576.0, 1),
            ["rss_after_mb"] = Math.Round(after / 1048576.0, 1),
            ["bytes_per_socket"] = Math.Round((after - before) / (double)n),
            ["curve"] = curve,
        };
    }

    /// <summary>Posts until every socket has seen an event, then a warm-up burst, and waits for all of it to drain.</summary>
    private static async Task WarmAsync(SocketFleet fleet, Poster poster, int burst)
    {
        var deadline = Stopwatch.StartNew();
        while (fleet.MinPerSocket == 0)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("some sockets never received an event");
            }

            await poster.PostOneAsync();
            await Task.Delay(100);
        }

        await poster.BurstAsync(burst, 4);
        await SettleAsync(fleet, long.MaxValue, TimeSpan.FromSeconds(60));
    }

    /// <summary>Waits until <paramref name="expected"/> deliveries or until nothing has arrived for a second.</summary>
    private static async Task<bool> SettleAsync(SocketFleet fleet, long expected, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var seen = -1L;
        var quietSince = clock.Elapsed;
        while (clock.Elapsed < timeout)
        {
            var now = fleet.Delivered;
            if (now >= expected)
            {
                return true;
            }

            if (now != seen)
            {
                seen = now;
                quietSince = clock.Elapsed;
            }
            else if (clock.Elapsed - quietSince > TimeSpan.FromSeconds(1))
            {
                return false;
            }

            await Task.Delay(20);
        }

        return false;
    }

    private static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }
}
