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
        local n = (#ARGV - 1) / 2
        for i = 0, n - 1 do
          redis.call('XADD', KEYS[1], (first + i) .. '-0', 't', ARGV[2 + i * 2], 'e', ARGV[3 + i * 2])
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

    private IDatabase Db => redis.GetDatabase();

    private static RedisKey[] Keys(string customer) => [$"fabric:{{{customer}}}:log", $"fabric:{{{customer}}}:seq"];

    public async ValueTask<LogHead> ReadHeadAsync(string customer, CancellationToken cancellationToken = default) =>
        ToHead(await Guard(Db.ScriptEvaluateAsync(HeadScript, Keys(customer))));

    public async ValueTask AppendAsync(string customer, IReadOnlyList<EventEnvelope> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        var args = new RedisValue[1 + events.Count * 2];
        args[0] = events[0].Seq;
        for (var i = 0; i < events.Count; i++)
        {
            args[1 + i * 2] = events[i].Time.ToUnixTimeMilliseconds();
            args[2 + i * 2] = serializer.SerializeToArray(events[i]);
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
