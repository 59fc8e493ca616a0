using Fabric.Contracts;
using Fabric.Grains.Log;
using Orleans.Serialization;
using StackExchange.Redis;

namespace Fabric.Grains.Redis;

/// <summary>
/// The durable event log: one Redis stream per customer, <c>fabric:{customer}:log</c>, whose entry ids are the event
/// seqs (<c>seq-0</c>), beside <c>fabric:{customer}:seq</c>, the last seq ever written (it survives trimming), the
/// epoch (<c>:epoch</c>, "id base previous floor generation"), the first retained seq (<c>:first</c>), the bytes ever written (<c>:bytes</c>) and
/// an index of log writes (<c>:index</c>, a stream with one small entry per group commit: its last seq, time and the
/// running byte total). All share a hash tag, so each script touches one slot and the layout works on Redis Cluster.
/// </summary>
/// <remarks>
/// Appends are one Lua script per batch: atomic, and fenced — the script refuses a batch whose first seq does not
/// follow the stored one, or whose epoch is not the stored one, so a stale duplicate activation cannot overwrite or
/// fork the log. A batch that starts beyond the stored seq means the log lost seqs it had handed out (a crash under
/// <c>appendfsync everysec</c>, a failover to an async replica): the script forks the log to a new epoch and refuses —
/// unless the write was pipelined behind one still in flight, whose failure leaves the same gap: that one is refused
/// without a fork (the grain fails both and a new activation, writing alone, tells the two cases apart).
/// Retention reads only the index, never a payload, and never runs on the read path.
/// Nothing is written for a customer until its first append.
/// </remarks>
public sealed class RedisEventLog(IConnectionMultiplexer redis, Serializer<EventEnvelope> serializer) : IEventLog
{
    private IDatabase Db => redis.GetDatabase();

    /// <summary>
    /// The log stream, the last seq, the idempotency keys — a hash (<c>source \n key</c> → <c>id seq</c>) and a sorted
    /// set of the same fields by time (Unix ms), so keys expire by age and count independently of event retention — the
    /// epoch, the bytes ever written, the first retained seq and the index of log writes.
    /// </summary>
    private static RedisKey[] Keys(string customer) =>
    [
        $"fabric:{{{customer}}}:log", $"fabric:{{{customer}}}:seq", $"fabric:{{{customer}}}:keys", $"fabric:{{{customer}}}:keytimes",
        $"fabric:{{{customer}}}:epoch", $"fabric:{{{customer}}}:bytes", $"fabric:{{{customer}}}:first", $"fabric:{{{customer}}}:index",
    ];

    public async ValueTask<LogHead> ReadHeadAsync(string customer, CancellationToken cancellationToken = default) =>
        ToHead(await Guard(Db.ScriptEvaluateAsync(RedisLogScripts.HeadScript, Keys(customer))));

    public async ValueTask AppendAsync(string customer, LogEpoch epoch, IReadOnlyList<EventEnvelope> events, bool follows = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        var args = new RedisValue[3 + events.Count * 4];
        // "+" after the first seq marks a pipelined write: a gap before it is its predecessor's failure, not lost data.
        args[0] = follows ? $"{events[0].Seq}+" : events[0].Seq;
        args[1] = Format(epoch);
        long bytes = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            bytes += EventSize.Of(e);
            args[3 + i * 4] = e.Time.ToUnixTimeMilliseconds();
            args[4 + i * 4] = serializer.SerializeToArray(e);
            args[5 + i * 4] = e.IdempotencyKey is { } key ? KeyField(e.Source, key) : "";
            args[6 + i * 4] = e.IdempotencyKey is null ? "" : $"{e.Id} {e.Seq}";
        }

        args[2] = bytes;
        await Guard(Db.ScriptEvaluateAsync(RedisLogScripts.AppendScript, Keys(customer), args));
    }

    public async ValueTask<LogEpoch> ForkAsync(string customer, LogEpoch current, LogEpoch replacement, CancellationToken cancellationToken = default)
    {
        var stored = (string?)await Guard(Db.ScriptEvaluateAsync(RedisLogScripts.ForkScript, Keys(customer), [Format(current), Format(replacement)]));
        return Parse(stored) ?? replacement;
    }

    /// <summary>
    /// Reads in rounds sized by what the page has left room for, so a page of large events never pulls much more than
    /// <paramref name="maxBytes"/> out of Redis: the first round takes a few entries, later ones as many as the average
    /// size so far says will fit.
    /// </summary>
    public async ValueTask<IReadOnlyList<EventEnvelope>> ReadAsync(string customer, long afterSeq, int max, long maxBytes, CancellationToken cancellationToken = default)
    {
        var events = new List<EventEnvelope>();
        if (max <= 0)
        {
            return events;
        }

        long bytes = 0;
        var after = Math.Max(afterSeq, 0);
        var round = Math.Min(max, 16);
        while (events.Count < max && after < long.MaxValue)
        {
            var entries = await Guard(Db.StreamRangeAsync(Keys(customer)[0], minId: $"{after + 1}-0", maxId: "+", count: round));
            foreach (var entry in entries)
            {
                var e = Deserialize(entry);
                bytes += EventSize.Of(e);
                if (events.Count > 0 && bytes > maxBytes)
                {
                    return events;
                }

                events.Add(e);
                after = e.Seq;
            }

            if (entries.Length < round || events.Count >= max)
            {
                break;
            }

            var average = bytes / events.Count;
            round = (int)Math.Clamp((maxBytes - bytes) / Math.Max(average, 1), 1, max - events.Count);
        }

        return events;
    }

    private EventEnvelope Deserialize(StreamEntry entry)
    {
        foreach (var field in entry.Values)
        {
            if (field.Name == "e")
            {
                return serializer.Deserialize((byte[])field.Value!)!;
            }
        }

        throw new LogUnavailableException($"Log entry {entry.Id} has no event.");
    }

    public async ValueTask<LogHead> TrimAsync(string customer, RetentionLimits limits, CancellationToken cancellationToken = default) =>
        ToHead(await Guard(Db.ScriptEvaluateAsync(RedisLogScripts.TrimScript, Keys(customer), [limits.MaxEvents, limits.MaxBytes, limits.Cutoff.ToUnixTimeMilliseconds()])));

    public async ValueTask<IReadOnlyList<RememberedKey>> ReadKeysAsync(string customer, DateTimeOffset since, int max, CancellationToken cancellationToken = default)
    {
        var keys = Keys(customer);
        var newest = await Guard(Db.SortedSetRangeByScoreWithScoresAsync(
            keys[3], since.ToUnixTimeMilliseconds(), double.PositiveInfinity, Exclude.None, Order.Descending, 0, max));
        var remembered = new List<RememberedKey>(newest.Length);
        // Read in pages: a customer may have 100,000 keys, and one HMGET of them all would hold Redis' only thread.
        foreach (var page in newest.Chunk(1000))
        {
            var values = await Guard(Db.HashGetAsync(keys[2], [.. page.Select(p => p.Element)]));
            for (var i = 0; i < page.Length; i++)
            {
                var field = ((string)page[i].Element!).Split('\n', 2);
                var value = ((string?)values[i])?.Split(' ', 2);
                if (field.Length == 2 && value is [var id, var seqText] && long.TryParse(seqText, System.Globalization.CultureInfo.InvariantCulture, out var seq))
                {
                    remembered.Add(new RememberedKey(field[0], field[1], id, seq, DateTimeOffset.FromUnixTimeMilliseconds((long)page[i].Score)));
                }
            }
        }

        remembered.Reverse();
        return remembered;
    }

    public async ValueTask TrimKeysAsync(string customer, DateTimeOffset cutoff, int maxKeys, CancellationToken cancellationToken = default)
    {
        // A customer adding thousands of keys a second outruns 1,000 per call: repeat (bounded) while calls come back full.
        for (var round = 0; round < 100; round++)
        {
            var forgot = (long)await Guard(Db.ScriptEvaluateAsync(RedisLogScripts.TrimKeysScript, Keys(customer), [cutoff.ToUnixTimeMilliseconds(), maxKeys]));
            if (forgot < 1000)
            {
                return;
            }
        }
    }

    /// <summary>Sources and keys are printable ASCII without spaces, so a newline cannot occur in either.</summary>
    private static string KeyField(string source, string key) => source + "\n" + key;

    /// <summary>
    /// Redis' own exceptions become <see cref="LogUnavailableException"/>: callers (the gateway among them, across
    /// Orleans) can tell "retry" from a bug, and Orleans has no codec for StackExchange.Redis' exception types.
    /// </summary>
    private static async Task<T> Guard<T>(Task<T> call)
    {
        try
        {
            return await call;
        }
        catch (Exception ex) when (ex is RedisException or RedisTimeoutException)
        {
            throw new LogUnavailableException($"The customer's log in Redis refused or missed the call ({ex.GetType().Name}: {ex.Message})");
        }
    }

    private static LogHead ToHead(RedisResult result)
    {
        var parts = (RedisResult[])result!;
        return new LogHead((long)parts[0], (long)parts[1], Parse((string?)parts[2]));
    }

    private static string Format(LogEpoch epoch) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{epoch.Id} {epoch.Base} {epoch.Previous ?? "-"} {epoch.Floor} {epoch.Generation}");

    private static LogEpoch? Parse(string? stored) =>
        stored?.Split(' ') is [var id, var baseText, var previous, var floorText, var generationText]
        && long.TryParse(baseText, System.Globalization.CultureInfo.InvariantCulture, out var @base)
        && long.TryParse(floorText, System.Globalization.CultureInfo.InvariantCulture, out var floor)
        && int.TryParse(generationText, System.Globalization.CultureInfo.InvariantCulture, out var generation)
            ? new LogEpoch(id, @base, previous == "-" ? null : previous, floor, generation)
            : null;
}
