-- PUT 4 KiB over the same 8 names per thread, round robin: after each name's first PUT, every
-- request replaces an existing file (what an editor's save or a sync client's update does).
-- usage: wrk ... -s put-over.lua http://host:port/ -- /put-4k/ over
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local counter = 0
local dir, prefix
local body = string.rep("o", 4096)
local headers = { ["Content-Type"] = "application/octet-stream" }

function init(args)
  dir = args[1] or "/"
  prefix = (args[2] or "over") .. "-" .. id .. "-"
end

function request()
  counter = counter + 1
  return wrk.format("PUT", dir .. prefix .. (counter % 8) .. ".bin", headers, body)
end
