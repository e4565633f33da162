-- PUT 4 KiB to a new name every time: <dir><prefix>-<thread>-<n>.bin; or, given a number of
-- names, over the same names per thread, round robin (after each name's first PUT every request
-- replaces an existing file, as an editor's save or a sync client's update does).
-- usage: wrk ... -s put.lua http://host:port/ -- /put-4k/ round1-keepdav
--        wrk ... -s put.lua http://host:port/ -- /put-4k/ over 8
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local counter = 0
local dir, prefix, names
local body = string.rep("k", 4096)
local headers = { ["Content-Type"] = "application/octet-stream" }

function init(args)
  dir = args[1] or "/"
  prefix = (args[2] or "new") .. "-" .. id .. "-"
  names = tonumber(args[3] or "")
end

function request()
  counter = counter + 1
  local n = names and (counter % names) or counter
  return wrk.format("PUT", dir .. prefix .. n .. ".bin", headers, body)
end
