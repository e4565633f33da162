-- Exclusive LOCK then UNLOCK with the returned token, over and over, one file per thread.
-- Run with as many threads as connections (-t8 -c8): wrk's Lua state is per thread, so one
-- connection per thread keeps each LOCK and its UNLOCK on the same connection and state.
-- usage: wrk -t8 -c8 ... -s lock.lua http://host:port/ -- /locks/ FIRST_INDEX
-- At the end it prints `BENCH pairs=N failed=M` (a failed pair: LOCK not 200 with a
-- Lock-Token, or UNLOCK not 204).
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

pairs_done = 0
failed = 0
local token = nil
local path
local lock_headers = { ["Content-Type"] = "application/xml; charset=utf-8", ["Depth"] = "0", ["Timeout"] = "Second-60" }
local lock_body = '<?xml version="1.0" encoding="utf-8"?>\n' ..
  '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>' ..
  '<D:locktype><D:write/></D:locktype><D:owner><D:href>keepdav-bench</D:href></D:owner></D:lockinfo>'

function init(args)
  local first = tonumber(args[2] or "0")
  path = (args[1] or "/") .. string.format("lock-%04d.txt", first + id - 1)
end

function request()
  if token then
    return wrk.format("UNLOCK", path, { ["Lock-Token"] = token }, nil)
  end
  return wrk.format("LOCK", path, lock_headers, lock_body)
end

local function header(headers, wanted)
  for name, value in pairs(headers) do
    if string.lower(name) == wanted then return value end
  end
  return nil
end

function response(status, headers, body)
  if token then
    if status == 204 then pairs_done = pairs_done + 1 else failed = failed + 1 end
    token = nil
    return
  end
  local t = status == 200 and header(headers, "lock-token") or nil
  if t then
    if string.sub(t, 1, 1) ~= "<" then t = "<" .. t .. ">" end
    token = t
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local p, f = 0, 0
  for _, t in ipairs(threads) do
    p = p + t:get("pairs_done")
    f = f + t:get("failed")
  end
  io.write(string.format("BENCH pairs=%d failed=%d\n", p, f))
end
