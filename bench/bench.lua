-- bench.lua - wrk script for bench/run.py (one script, configured by env).
--
--   BENCH_OP     put | get | fixed | multiget
--   BENCH_AUTH   value of the Authorization header ("" = none)
--   BENCH_PATHS  put: the collection path (ends in /); get/multiget: a file
--                with one href per line
--   BENCH_POOL   put: a file with one body file name per line; each PUT
--                takes the next body of the pool and gets a fresh UID
--   BENCH_METHOD, BENCH_PATH, BENCH_DEPTH, BENCH_BODY (a file), BENCH_CTYPE
--                fixed: the one request sent over and over
--   BENCH_N      multiget: hrefs per request (default 50)
--   BENCH_SEED   seed of the per-thread random sequence
--   BENCH_TAG    put: part of every path and UID (one per attempt of a phase)
--
-- done() prints one line "BENCHJSON {...}" that run.py parses.  All
-- latencies are in microseconds (wrk's unit).

local counter = 0
local threads = {}

function setup(thread)
   counter = counter + 1
   thread:set("tid", counter)
   table.insert(threads, thread)
end

local function readfile(name)
   local f = assert(io.open(name, "rb"))
   local s = f:read("*a")
   f:close()
   return s
end

local function readlines(name)
   local t = {}
   for line in io.lines(name) do
      if #line > 0 then t[#t + 1] = line end
   end
   return t
end

local op, hdrs, paths, pool, fixed, nref, prefix, n, tag

function init(args)
   op = os.getenv("BENCH_OP")
   tag = os.getenv("BENCH_TAG") or "a0"
   hdrs = {}
   local auth = os.getenv("BENCH_AUTH") or ""
   if auth ~= "" then hdrs["Authorization"] = auth end
   math.randomseed(tonumber(os.getenv("BENCH_SEED") or "1") * 1000 + tid)
   n = 0
   if op == "put" then
      prefix = os.getenv("BENCH_PATHS")
      pool = {}
      for _, name in ipairs(readlines(os.getenv("BENCH_POOL"))) do
         pool[#pool + 1] = readfile(name)
      end
      hdrs["Content-Type"] = "text/calendar; charset=utf-8"
   elseif op == "get" or op == "multiget" then
      paths = readlines(os.getenv("BENCH_PATHS"))
      nref = tonumber(os.getenv("BENCH_N") or "50")
      if op == "multiget" then
         hdrs["Content-Type"] = "application/xml; charset=utf-8"
         hdrs["Depth"] = "1"
      end
   elseif op == "fixed" then
      local h = {}
      for k, v in pairs(hdrs) do h[k] = v end
      local depth = os.getenv("BENCH_DEPTH") or ""
      if depth ~= "" then h["Depth"] = depth end
      local body = nil
      local bf = os.getenv("BENCH_BODY") or ""
      if bf ~= "" then
         body = readfile(bf)
         h["Content-Type"] = os.getenv("BENCH_CTYPE") or "application/xml; charset=utf-8"
      end
      fixed = wrk.format(os.getenv("BENCH_METHOD"), os.getenv("BENCH_PATH"), h, body)
   else
      error("unknown BENCH_OP " .. tostring(op))
   end
end

function request()
   n = n + 1
   if op == "fixed" then
      return fixed
   elseif op == "get" then
      return wrk.format("GET", paths[math.random(#paths)], hdrs)
   elseif op == "put" then
      local body = pool[(n - 1) % #pool + 1]
      local uid = string.format("put-%s-%d-%d-%d@example.org", tag, tid, n, os.time())
      body = body:gsub("\nUID:[^\r\n]*", "\nUID:" .. uid)
      return wrk.format("PUT", string.format("%sp-%s-%d-%d.ics", prefix, tag, tid, n), hdrs, body)
   else -- multiget
      local parts = {'<?xml version="1.0" encoding="utf-8"?>\n',
                     '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">',
                     '<D:prop><D:getetag/><C:calendar-data/></D:prop>'}
      for i = 1, nref do
         parts[#parts + 1] = "<D:href>" .. paths[math.random(#paths)] .. "</D:href>"
      end
      parts[#parts + 1] = "</C:calendar-multiget>"
      return wrk.format("REPORT", os.getenv("BENCH_COLL"), hdrs, table.concat(parts))
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCHJSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"err_connect": %d, "err_read": %d, "err_write": %d, "err_status": %d, "err_timeout": %d, ' ..
      '"lat_mean": %.1f, "lat_p50": %d, "lat_p95": %d, "lat_p99": %d, "lat_max": %d}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency:percentile(50), latency:percentile(95),
      latency:percentile(99), latency.max))
end
