-- Moves deals to open stages, each deal once, sending the version it has (read by the bench
-- from the database into BENCH_MOVES). Threads take alternate lines, so no two requests
-- race for one deal.
local stages = {}
for s in string.gmatch(os.getenv("BENCH_STAGES") or "", "[^,]+") do stages[#stages + 1] = s end
local deals = {}
for line in io.lines(os.getenv("BENCH_MOVES")) do
  local id, version = line:match("(%d+) (%d+)")
  deals[#deals + 1] = { id, version }
end
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
request = function()
  n = n + 1
  local d = deals[((n - 1) * 2 + (tid or 1) - 1) % #deals + 1]
  local stage = stages[n % #stages + 1]
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/v1/deals/" .. d[1] .. "/move", headers, string.format('{"stage_id":%s,"version":%s}', stage, d[2]))
end
