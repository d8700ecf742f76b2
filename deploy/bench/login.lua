-- wrk script: POST a login for one of the accounts created by run.sh.
local accounts = tonumber(os.getenv("BENCH_ACCOUNTS") or "8")
local prefix = os.getenv("BENCH_PREFIX") or "bench"
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"email":"%s-%d@bench.example","password":"correct horse battery staple"}', prefix, counter % accounts)
  return wrk.format("POST", "/api/auth/login", {["Content-Type"] = "application/json"}, body)
end
