/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Redis runs a script alone: no other client's command comes between its
 * reads and its writes, which is what lets N hosts that see the same
 * address at once decide one ban, not N. An address's offences are a
 * list, not a sorted set: signed members are longer than the 64 bytes a
 * sorted set keeps compact, and a list stays compact at any length (a
 * fifth of the memory). The scripts trust nothing they
 * read beyond the record kinds at fixed offsets (PROTO_BODY_OFFSET): the
 * hosts verify every signature themselves. Pruning is bounded per call
 * (100 entries, 1000 per heartbeat) so that no script holds Redis long.
 */
#include "scripts.h"

/* Drops up to n entries of the index whose end has come. */
#define LUA_PRUNE \
	"local function prune(bans, expiry, now, n)\n" \
	"  local old = redis.call('ZRANGEBYSCORE', expiry, '-inf', now, 'LIMIT', 0, n)\n" \
	"  if #old > 0 then\n" \
	"    redis.call('HDEL', bans, unpack(old))\n" \
	"    redis.call('ZREM', expiry, unpack(old))\n" \
	"  end\n" \
	"end\n"

/* The record of addr in the index while it lasts, else nil. */
#define LUA_CURRENT \
	"local function current(bans, expiry, addr, now)\n" \
	"  local s = redis.call('ZSCORE', expiry, addr)\n" \
	"  if not s or tonumber(s) <= now then return nil end\n" \
	"  return redis.call('HGET', bans, addr)\n" \
	"end\n" \
	"local function is_ban(rec) return rec and string.sub(rec, 70, 73) == 'ban ' end\n"

static const char script_offence[] =
	LUA_CURRENT
	"local now = tonumber(ARGV[2])\n"
	"if is_ban(current(KEYS[1], KEYS[2], ARGV[1], now)) then return {2} end\n"
	"if redis.call('EXISTS', KEYS[5]) == 1 then return {2} end\n"
	"redis.call('RPUSH', KEYS[3], ARGV[3])\n"
	"redis.call('EXPIRE', KEYS[3], ARGV[6])\n"
	"local offs, sum, keep = redis.call('LRANGE', KEYS[3], 0, -1), 0, {}\n"
	"for _, m in ipairs(offs) do\n"
	"  local t, w = string.match(m, '^SW1 %x+ off %S+ %d+ (%d+) %S+ (%d+) ')\n"
	"  if t and tonumber(t) / 1000 > now - tonumber(ARGV[6]) then\n"
	"    sum = sum + tonumber(w)\n"
	"    keep[#keep + 1] = m\n"
	"  end\n"
	"end\n"
	"if #keep < #offs then\n"
	"  redis.call('DEL', KEYS[3])\n"
	"  if #keep > 0 then redis.call('RPUSH', KEYS[3], unpack(keep)) end\n"
	"  redis.call('EXPIRE', KEYS[3], ARGV[6])\n"
	"end\n"
	"if sum < tonumber(ARGV[5]) then return {0, sum} end\n"
	"redis.call('SET', KEYS[5], ARGV[8], 'EX', ARGV[9])\n"
	"redis.call('DEL', KEYS[3])\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[7]))\n"
	"return {1, redis.call('ZCARD', KEYS[4]), keep}\n";

static const char script_ban[] =
	LUA_PRUNE LUA_CURRENT
	"local now = tonumber(ARGV[6])\n"
	"prune(KEYS[1], KEYS[2], now, 100)\n"
	"local rec = current(KEYS[1], KEYS[2], ARGV[1], now)\n"
	"if is_ban(rec) then return {2} end\n"
	"if rec then\n"
	"  local t = string.match(rec, '^SW1 %x+ unban %S+ %d+ (%d+) ')\n"
	"  if t and math.floor(tonumber(t) / 1000) > tonumber(ARGV[3]) then return {3} end\n"
	"end\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[7]))\n"
	"local e = redis.call('ZCARD', KEYS[4])\n"
	"if redis.call('ZSCORE', KEYS[4], ARGV[9]) then e = e - 1 end\n"
	"if e > tonumber(ARGV[5]) then return {4, e} end\n"
	"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
	"redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])\n"
	"redis.call('ZADD', KEYS[4], ARGV[3], ARGV[9])\n"
	"redis.call('EXPIRE', KEYS[4], ARGV[7])\n"
	"redis.call('DEL', KEYS[3], KEYS[5])\n"
	"redis.call('PUBLISH', ARGV[8], ARGV[2])\n"
	"return {1, e}\n";

static const char script_unban[] =
	LUA_PRUNE
	"local now = tonumber(ARGV[3])\n"
	"prune(KEYS[1], KEYS[2], now, 100)\n"
	"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
	"redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])\n"
	"redis.call('DEL', KEYS[3], KEYS[5])\n"
	"if ARGV[4] == '1' then redis.call('DEL', KEYS[4]) end\n"
	"redis.call('PUBLISH', ARGV[5], ARGV[2])\n"
	"return 1\n";

static const char script_unlock[] =
	"if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end\n"
	"return 1\n";

static const char script_heartbeat[] =
	LUA_PRUNE
	"local now = tonumber(ARGV[4])\n"
	"redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])\n"
	"redis.call('ZADD', KEYS[1], now, ARGV[1])\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[6]))\n"
	"prune(KEYS[3], KEYS[4], now, 1000)\n"
	"local hosts = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')\n"
	"local out = {}\n"
	"for i = 1, #hosts, 2 do\n"
	"  out[#out + 1] = hosts[i]\n"
	"  out[#out + 1] = hosts[i + 1]\n"
	"  out[#out + 1] = redis.call('GET', ARGV[5] .. hosts[i]) or ''\n"
	"end\n"
	"return out\n";

const char *const scripts_lua[SCRIPT_COUNT] = {
	[SCRIPT_OFFENCE] = script_offence,
	[SCRIPT_BAN] = script_ban,
	[SCRIPT_UNBAN] = script_unban,
	[SCRIPT_UNLOCK] = script_unlock,
	[SCRIPT_HEARTBEAT] = script_heartbeat,
};
