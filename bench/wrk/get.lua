-- Fetch random contacts by id.
local max_id = tonumber(os.getenv("BENCH_MAX_ID") or "1000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/v1/contacts/" .. math.random(1, max_id))
end
