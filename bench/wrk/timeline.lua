-- The first page of a random deal's timeline.
local max_id = tonumber(os.getenv("BENCH_MAX_DEAL") or "1000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/v1/deals/" .. math.random(1, max_id) .. "/timeline?limit=50")
end
