using Fabric.Contracts;
using Fabric.Grains.Log;
using Orleans.Serialization;
using StackExchange.Redis;

namespace Fabric.Grains.Redis;

/// <summary>
/// The durable event log: one Redis stream per customer, <c>fabric:{customer}:log</c>, whose entry ids are the event
/// seqs (<c>seq-0</c>), beside <c>fabric:{customer}:seq</c>, the last seq ever written (it survives trimming). Both keys
/// share a hash tag, so each script touches one slot and the layout works on Redis Cluster too.
/// </summary>
/// <remarks>
/// Appends are one Lua script per batch: atomic, and fenced — the script refuses a batch whose first seq does not
/// follow the stored one, so a stale duplicate activation cannot overwrite or fork the log.
/// </remarks>
public sealed class RedisEventLog(IConnectionMultiplexer redis, Serializer<EventEnvelope> serializer) : IEventLog
{
    private const string AppendScript = """
        local last = tonumber(redis.call('GET', KEYS[2]) or '0')
        local first = tonumber(ARGV[1])
        if first ~= last + 1 then
          return redis.error_reply('FABRIC_SEQ expected ' .. (last + 1) .. ' got ' .. first)
        end
        local n = (#ARGV - 1) / 4
        for i = 0, n - 1 do
          local at = 2 + i * 4
          redis.call('XADD', KEYS[1], (first + i) .. '-0', 't', ARGV[at], 'e', ARGV[at + 1])
          if ARGV[at + 2] ~= '' then
            redis.call('HSET', KEYS[3], ARGV[at + 2], ARGV[at + 3])
            redis.call('ZADD', KEYS[4], ARGV[at], ARGV[at + 2])
          end
        end
        redis.call('SET', KEYS[2], first + n - 1)
        return first + n - 1
        """;

    private const string HeadScript = """
        local last = tonumber(redis.call('GET', KEYS[2]) or '0')
        local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
        local first = last + 1
        if #oldest > 0 then first = tonumber(string.match(oldest[1][1], '^(%d+)')) end
        return { first, last }
        """;

    // Scans at most 256 of the oldest entries per call: a long backlog is trimmed over a few calls, never in one
    // blocking script. ARGV[1] = most events kept, ARGV[2] = cutoff (Unix ms).
    private const string TrimScript = """
        local last = tonumber(redis.call('GET', KEYS[2]) or '0')
        local keepFrom = last - tonumber(ARGV[1]) + 1
        local cutoff = tonumber(ARGV[2])
        local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 256)
        local drop = nil
        for _, entry in ipairs(oldest) do
          local seq = tonumber(string.match(entry[1], '^(%d+)'))
          local time = tonumber(entry[2][2])
          if seq < keepFrom or time < cutoff then drop = seq else break end
        end
        if drop then redis.call('XTRIM', KEYS[1], 'MINID', (drop + 1) .. '-0') end
        local first = last + 1
        local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
        if #head > 0 then first = tonumber(string.match(head[1][1], '^(%d+)')) end
        return { first, last }
        """;

    // Forgets keys by age, then by count, at most 1,000 of each per call so one call never holds Redis for long; returns
    // how many it forgot, and the caller repeats while a call was full. ARGV[1] = cutoff (Unix ms), ARGV[2] = max keys.
    private const string TrimKeysScript = """
        local old = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[1], 'LIMIT', 0, 1000)
        if #old > 0 then
          redis.call('HDEL', KEYS[3], unpack(old))
          redis.call('ZREM', KEYS[4], unpack(old))
        end
        local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[2])
        local dropped = 0
        if over > 0 then
          local oldest = redis.call('ZRANGE', KEYS[4], 0, math.min(over, 1000) - 1)
          redis.call('HDEL', KEYS[3], unpack(oldest))
          redis.call('ZREM', KEYS[4], unpack(oldest))
          dropped = #oldest
        end
        return math.max(#old, dropped)
        """;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>
    /// The log stream, the last seq, and the idempotency keys: a hash (<c>source \n key</c> → <c>id seq</c>) and a sorted
    /// set of the same fields by time (Unix ms), so keys expire by age and count independently of event retention.
    /// </summary>
    private static RedisKey[] Keys(string customer) =>
        [$"fabric:{{{customer}}}:log", $"fabric:{{{customer}}}:seq", $"fabric:{{{customer}}}:keys", $"fabric:{{{customer}}}:keytimes"];

    public async ValueTask<LogHead> ReadHeadAsync(string customer, CancellationToken cancellationToken = default) =>
        ToHead(await Guard(Db.ScriptEvaluateAsync(HeadScript, Keys(customer))));

    public async ValueTask AppendAsync(string customer, IReadOnlyList<EventEnvelope> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        var args = new RedisValue[1 + events.Count * 4];
        args[0] = events[0].Seq;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            args[1 + i * 4] = e.Time.ToUnixTimeMilliseconds();
            args[2 + i * 4] = serializer.SerializeToArray(e);
            args[3 + i * 4] = e.IdempotencyKey is { } key ? KeyField(e.Source, key) : "";
            args[4 + i * 4] = e.IdempotencyKey is null ? "" : $"{e.Id} {e.Seq}";
        }

        await Guard(Db.ScriptEvaluateAsync(AppendScript, Keys(customer), args));
    }

    public async ValueTask<IReadOnlyList<EventEnvelope>> ReadAsync(string customer, long afterSeq, int max, CancellationToken cancellationToken = default)
    {
        if (max <= 0)
        {
            return [];
        }

        var entries = await Guard(Db.StreamRangeAsync(Keys(customer)[0], minId: $"{Math.Max(afterSeq, 0) + 1}-0", maxId: "+", count: max));
        var events = new List<EventEnvelope>(entries.Length);
        foreach (var entry in entries)
        {
            foreach (var field in entry.Values)
            {
                if (field.Name == "e")
                {
                    events.Add(serializer.Deserialize((byte[])field.Value!)!);
                }
            }
        }

        return events;
    }

    public async ValueTask<LogHead> TrimAsync(string customer, int maxEvents, DateTimeOffset cutoff, CancellationToken cancellationToken = default) =>
        ToHead(await Guard(Db.ScriptEvaluateAsync(TrimScript, Keys(customer), [maxEvents, cutoff.ToUnixTimeMilliseconds()])));

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
            var forgot = (long)await Guard(Db.ScriptEvaluateAsync(TrimKeysScript, Keys(customer), [cutoff.ToUnixTimeMilliseconds(), maxKeys]));
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
        var pair = (long[])result!;
        return new LogHead(pair[0], pair[1]);
    }
}
