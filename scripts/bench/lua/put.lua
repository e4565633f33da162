-- PUT 4 KiB to a new name every time: <dir><prefix>-<thread>-<n>.bin
-- usage: wrk ... -s put.lua http://host:port/ -- /put-4k/ round1-keepdav
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local counter = 0
local dir, prefix
local body = string.rep("k", 4096)
local headers = { ["Content-Type"] = "application/octet-stream" }

function init(args)
  dir = args[1] or "/"
  prefix = (args[2] or "new") .. "-" .. id .. "-"
end

function request()
  counter = counter + 1
  return wrk.format("PUT", dir .. prefix .. counter .. ".bin", headers, body)
end
