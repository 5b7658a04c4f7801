-- wrk script: POST the GraphQL body in env BODY with the token "@SEV@" replaced by a different
-- severity floor on every request, so no cache (page, summary, groups, whole response) answers.
-- Optional env TOKEN sends Authorization: Bearer.
local f = assert(io.open(os.getenv("BODY"), "r"))
local template = f:read("*a")
f:close()
local headers = {["Content-Type"] = "application/json"}
local token = os.getenv("TOKEN")
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
local n = 0
request = function()
  n = n + 1
  local sev = string.format("%.6f", 1 + (n % 900000) / 1000000)
  local body = template:gsub("@SEV@", sev)
  return wrk.format("POST", "/graphql", headers, body)
end
