-- Name prefixes (Cyrillic and Latin) and e-mail fragments, round robin. Every name prefix
-- matches tens of thousands of contacts; "mail42" is a domain about 1% share, "c1234" a
-- local-part prefix. A fragment every record shares ("example", in every bench address)
-- is left out: it measures the degenerate case, not a search.
local queries = {"%D0%98%D0%B2%D0%B0", "%D0%9F%D0%B5%D1%82", "%D0%A1%D0%BC%D0%B8", "%D0%9A%D1%83%D0%B7", "smi", "john", "mar", "mail42", "c1234", "%D0%92%D0%BE%D0%BB", "wil", "ivanov"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/search?limit=20&q=" .. queries[(i % #queries) + 1])
end
