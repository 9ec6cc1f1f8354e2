-- Create contacts with unique e-mails and phones; each thread numbers its own.
local counter = 0
local thread_id = 0
setup = function(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end
request = function()
  counter = counter + 1
  local n = (tid or 1) * 100000000 + counter
  local body = string.format('{"last_name":"Нагрузкин %d","first_name":"Тест","emails":["load%d@bench.example.com"],"phones":["+7 999 %07d"],"tags":["load"]}', n, n, n % 10000000)
  -- Headers given to wrk.format replace the -H ones, so carry those over.
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/v1/contacts?allow_duplicates=true", headers, body)
end
