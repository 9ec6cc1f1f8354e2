-- Name prefixes (Cyrillic and Latin) and e-mail fragments, round robin.
local queries = {"%D0%98%D0%B2%D0%B0", "%D0%9F%D0%B5%D1%82", "%D0%A1%D0%BC%D0%B8", "%D0%9A%D1%83%D0%B7", "smi", "john", "mar", "ivanov", "petrov", "example", "%D0%92%D0%BE%D0%BB", "wil"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/search?limit=20&q=" .. queries[(i % #queries) + 1])
end
