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
/// <c>appendfsync everysec</c>, a failover to an async replica): the script forks the log to a new epoch and refuses.
/// Retention reads only the index, never a payload, and never runs on the read path.
/// Nothing is written for a customer until its first append.
/// </remarks>
public sealed class RedisEventLog(IConnectionMultiplexer redis, Serializer<EventEnvelope> serializer) : IEventLog
{
    // The newest seq: the seq key, or (when that key was lost) the stream's newest entry.
    private const string LastSeqFunction = """
        local function lastSeq()
          local text = redis.call('GET', KEYS[2])
          if text then return tonumber(text) end
          local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
          if #newest > 0 then return tonumber(string.match(newest[1][1], '^(%d+)')) end
          return 0
        end
        local function firstRetained(last)
          if redis.call('XLEN', KEYS[1]) == 0 then return last + 1 end
          local text = redis.call('GET', KEYS[7])
          if text then return math.min(tonumber(text), last + 1) end
          local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
          return tonumber(string.match(oldest[1][1], '^(%d+)'))
        end
        """;

    // ARGV[1] = first seq, ARGV[2] = epoch ("id base previous floor generation"), ARGV[3] = the id a fork would take, ARGV[4] = the batch's bytes,
    // then per event: time (Unix ms), serialized envelope, key field or '', key value or ''.
    private const string AppendScript = LastSeqFunction + "\n" + """
        local function fork(last)
          -- "id base previous floor generation": forks at 'last' from the stored epoch, keeping the lowest floor.
          local previous, floor, generation = '-', last, 0
          local stored = redis.call('GET', KEYS[5])
          if stored then
            local id, f, g = string.match(stored, '^(%S+) %d+ %S+ (%d+) (%d+)$')
            if id then
              previous = id
              generation = tonumber(g) + 1
              if tonumber(f) < floor then floor = tonumber(f) end
            end
          end
          redis.call('SET', KEYS[5], ARGV[3] .. ' ' .. last .. ' ' .. previous .. ' ' .. floor .. ' ' .. generation)
          redis.call('SET', KEYS[2], last)
          -- The streams' own last ids may still be above what the log holds, and the index may remember lost writes:
          -- set both back, so the new epoch writes from 'last' on and the byte count is that of what is left.
          redis.pcall('XSETID', KEYS[1], last .. '-0')
          for _, e in ipairs(redis.call('XRANGE', KEYS[8], (last + 1) .. '-0', '+')) do redis.call('XDEL', KEYS[8], e[1]) end
          redis.pcall('XSETID', KEYS[8], last .. '-0')
          local kept = redis.call('XREVRANGE', KEYS[8], '+', '-', 'COUNT', 1)
          if #kept > 0 then redis.call('SET', KEYS[6], kept[1][2][4]) else redis.call('DEL', KEYS[6]) end
          return redis.error_reply('FABRIC_BEHIND the log is at seq ' .. last .. ', behind seqs already handed out; forked to a new epoch')
        end
        -- A writer from another epoch is stale, and must not fork the current one: refused first. The epoch just before
        -- the stored one is accepted: the activation that forked it may have had a write on its way.
        local stored = redis.call('GET', KEYS[5])
        if stored and stored ~= ARGV[2] and string.match(stored, '^%S+ %d+ (%S+) ') ~= string.match(ARGV[2], '^(%S+) ') then
          return redis.error_reply('FABRIC_EPOCH the log is in epoch ' .. stored)
        end
        local last = lastSeq()
        local first = tonumber(ARGV[1])
        if first > last + 1 then return fork(last) end
        -- The index remembers a write beyond the log's end: that write was lost (the seq key went back with it).
        local top = redis.call('XREVRANGE', KEYS[8], '+', '-', 'COUNT', 1)
        if #top > 0 and tonumber(string.match(top[1][1], '^(%d+)')) > last then return fork(last) end
        if first ~= last + 1 then
          return redis.error_reply('FABRIC_SEQ expected ' .. (last + 1) .. ' got ' .. first)
        end
        local n = (#ARGV - 4) / 4
        for i = 0, n - 1 do
          local at = 5 + i * 4
          local added = redis.pcall('XADD', KEYS[1], (first + i) .. '-0', 't', ARGV[at], 'e', ARGV[at + 1])
          if type(added) == 'table' and added.err then
            -- Only the first can fail (ids rise): the stream went further once, so entries it had were lost.
            return fork(last)
          end
          if ARGV[at + 2] ~= '' then
            redis.call('HSET', KEYS[3], ARGV[at + 2], ARGV[at + 3])
            redis.call('ZADD', KEYS[4], ARGV[at], ARGV[at + 2])
          end
        end
        if not stored then redis.call('SET', KEYS[5], ARGV[2]) end
        redis.call('SET', KEYS[2], first + n - 1)
        local total = redis.call('INCRBY', KEYS[6], ARGV[4])
        redis.call('XADD', KEYS[8], (first + n - 1) .. '-0', 't', ARGV[5 + (n - 1) * 4], 'b', total, 's', ARGV[4])
        return first + n - 1
        """;

    private const string HeadScript = LastSeqFunction + "\n" + """
        local last = lastSeq()
        return { firstRetained(last), last, redis.call('GET', KEYS[5]) or '' }
        """;

    // Sets the epoch to ARGV[2] if ARGV[1] (or nothing) is stored; returns what is stored afterwards.
    private const string ForkScript = """
        local stored = redis.call('GET', KEYS[5])
        if not stored or stored == ARGV[1] then
          redis.call('SET', KEYS[5], ARGV[2])
          return ARGV[2]
        end
        return stored
        """;

    // Retention without reading a payload: the count cut is arithmetic; the age and byte cuts scan the index (at most
    // 256 of its small entries per call; a long backlog goes over a few calls), whose entries end whole log writes:
    // fields t (time of the write's last event), b (bytes ever written, up to and including it), s (its own bytes).
    // ARGV[1] = most events kept, ARGV[2] = most bytes kept, ARGV[3] = cutoff (Unix ms).
    private const string TrimScript = LastSeqFunction + "\n" + """
        local last = lastSeq()
        local cut = last - tonumber(ARGV[1])
        local floor = tonumber(redis.call('GET', KEYS[6]) or '0') - tonumber(ARGV[2])
        local cutoff = tonumber(ARGV[3])
        local writes = redis.call('XRANGE', KEYS[8], '-', '+', 'COUNT', 256)
        local dropped = nil
        for _, entry in ipairs(writes) do
          local seq = tonumber(string.match(entry[1], '^(%d+)'))
          -- A write goes when it is past the count, older than the cutoff, or what is kept up to it exceeds the bytes.
          if seq <= cut or tonumber(entry[2][2]) < cutoff or tonumber(entry[2][4]) - tonumber(entry[2][6]) < floor then
            if seq > cut then cut = seq end
            dropped = seq
          else
            break
          end
        end
        if dropped then redis.call('XTRIM', KEYS[8], 'MINID', (dropped + 1) .. '-0') end
        local first = firstRetained(last)
        if cut >= first and first <= last then
          redis.call('XTRIM', KEYS[1], 'MINID', (cut + 1) .. '-0')
          redis.call('SET', KEYS[7], cut + 1)
          first = firstRetained(last)
        end
        return { first, last, redis.call('GET', KEYS[5]) or '' }
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
        ToHead(await Guard(Db.ScriptEvaluateAsync(HeadScript, Keys(customer))));

    public async ValueTask AppendAsync(string customer, LogEpoch epoch, IReadOnlyList<EventEnvelope> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        var args = new RedisValue[4 + events.Count * 4];
        args[0] = events[0].Seq;
        args[1] = Format(epoch);
        args[2] = LogEpoch.New(0).Id;
        long bytes = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            bytes += EventSize.Of(e);
            args[4 + i * 4] = e.Time.ToUnixTimeMilliseconds();
            args[5 + i * 4] = serializer.SerializeToArray(e);
            args[6 + i * 4] = e.IdempotencyKey is { } key ? KeyField(e.Source, key) : "";
            args[7 + i * 4] = e.IdempotencyKey is null ? "" : $"{e.Id} {e.Seq}";
        }

        args[3] = bytes;
        await Guard(Db.ScriptEvaluateAsync(AppendScript, Keys(customer), args));
    }

    public async ValueTask<LogEpoch> ForkAsync(string customer, LogEpoch current, LogEpoch replacement, CancellationToken cancellationToken = default)
    {
        var stored = (string?)await Guard(Db.ScriptEvaluateAsync(ForkScript, Keys(customer), [Format(current), Format(replacement)]));
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
        ToHead(await Guard(Db.ScriptEvaluateAsync(TrimScript, Keys(customer), [limits.MaxEvents, limits.MaxBytes, limits.Cutoff.ToUnixTimeMilliseconds()])));

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
