-- wrk script for bench/load/run.sh. Aimed at /api/health it only asks for health; aimed at
-- / it mixes /api/trace (40%), /api/distribution (50%) and /api/health (10%), with varied
-- prompts and token lists so the logits cache sees misses as well as hits.
-- Counts every status per thread and prints the totals and latency percentiles at the end.

local threads = {}
local headers = { ["Content-Type"] = "application/json" }
local prompts = { "The cat", "Once upon a time", "Hello", "1, 2, 3,", " a b c", "<|endoftext|>" }

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
  math.randomseed(os.time() * 100 + id)
end

local function trace_body()
  local prompt = prompts[math.random(#prompts)]
  local sampling = math.random(2) == 1 and '{"greedy":true}' or '{"greedy":false,"top_p":0.9}'
  return string.format('{"prompt":"%s","steps":8,"sampling":%s,"seed":%d}',
    prompt, sampling, math.random(1000))
end

local function distribution_body()
  local ids = {}
  for i = 1, math.random(1, 12) do ids[i] = math.random(0, 50256) end
  return string.format('{"tokens":[%s],"top_n":30}', table.concat(ids, ","))
end

function request()
  if wrk.path == "/api/health" then
    return wrk.format("GET", "/api/health")
  end
  local r = math.random(10)
  if r <= 4 then
    return wrk.format("POST", "/api/trace", headers, trace_body())
  elseif r <= 9 then
    return wrk.format("POST", "/api/distribution", headers, distribution_body())
  end
  return wrk.format("GET", "/api/health")
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      totals[status] = (totals[status] or 0) + n
    end
  end
  for status, n in pairs(totals) do
    io.write(string.format("status %d %d\n", status, n))
  end
  local e = summary.errors
  io.write(string.format("socket_errors %d\n", e.connect + e.read + e.write + e.timeout))
  for _, p in ipairs({ 50, 90, 99 }) do
    io.write(string.format("p%d_ms %.2f\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("max_ms %.2f\n", latency.max / 1000))
end
