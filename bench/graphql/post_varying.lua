-- wrk script: the page-of-50 query with a different severityMin per request, so every request
-- misses the caches (measures resolver + index work, not the response cache).
local f = assert(io.open(os.getenv("BODY"), "r"))
local template = f:read("*a")
f:close()
local n = 0
request = function()
  n = n + 1
  local sev = string.format("%.6f", 1 + (n % 900000) / 1000000)
  local body = template:gsub("severityMin: 4", "severityMin: " .. sev)
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json"}, body)
end
