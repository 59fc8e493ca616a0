namespace Fabric.Grains.Redis;

/// <summary>
/// The Lua scripts of <see cref="RedisEventLog"/>, each one atomic on the customer's keys (<c>KEYS</c>: 1 log, 2 seq,
/// 3 keys, 4 keytimes, 5 epoch, 6 bytes, 7 first, 8 index; see <c>RedisEventLog.Keys</c>).
/// </summary>
internal static class RedisLogScripts
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

    // ARGV[1] = first seq (with a trailing "+" when pipelined behind a write still in flight), ARGV[2] = epoch
    // ("id base previous floor generation"), ARGV[3] = the batch's bytes, then per event: time (Unix ms), serialized envelope, key field or '', key value or ''.
    internal const string AppendScript = LastSeqFunction + "\n" + """
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
          -- The new id is derived, not sent with every append: unique to this epoch, seq and write.
          local id = string.sub(redis.sha1hex((stored or ARGV[2]) .. ' ' .. last .. ' ' .. ARGV[1]), 1, 16)
          redis.call('SET', KEYS[5], id .. ' ' .. last .. ' ' .. previous .. ' ' .. floor .. ' ' .. generation)
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
        local first = tonumber(string.match(ARGV[1], '^(%d+)'))
        -- A pipelined write ('+') sent behind one still in flight: a gap is that write's failure, refused, not forked.
        local follows = string.sub(ARGV[1], -1) == '+'
        if first > last + 1 and follows then
          return redis.error_reply('FABRIC_SEQ expected ' .. (last + 1) .. ' got ' .. first .. ' (the write before it did not land)')
        end
        if first > last + 1 then return fork(last) end
        -- The index remembers a write beyond the log's end: that write was lost (the seq key went back with it).
        local top = redis.call('XREVRANGE', KEYS[8], '+', '-', 'COUNT', 1)
        if #top > 0 and tonumber(string.match(top[1][1], '^(%d+)')) > last then return fork(last) end
        if first ~= last + 1 then
          return redis.error_reply('FABRIC_SEQ expected ' .. (last + 1) .. ' got ' .. first)
        end
        local n = (#ARGV - 3) / 4
        for i = 0, n - 1 do
          local at = 4 + i * 4
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
        local total = redis.call('INCRBY', KEYS[6], ARGV[3])
        redis.call('XADD', KEYS[8], (first + n - 1) .. '-0', 't', ARGV[4 + (n - 1) * 4], 'b', total, 's', ARGV[3])
        return first + n - 1
        """;

    internal const string HeadScript = LastSeqFunction + "\n" + """
        local last = lastSeq()
        return { firstRetained(last), last, redis.call('GET', KEYS[5]) or '' }
        """;

    // Sets the epoch to ARGV[2] if ARGV[1] (or nothing) is stored; returns what is stored afterwards.
    internal const string ForkScript = """
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
    internal const string TrimScript = LastSeqFunction + "\n" + """
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
    internal const string TrimKeysScript = """
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
}
