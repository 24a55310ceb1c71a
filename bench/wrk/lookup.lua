-- Counter lookup by member number: POST /api/v1/members/lookup/ with a random seeded number.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local numbers, headers, store

function init(args)
  numbers = common.read_lines(assert(os.getenv("BENCH_NUMBERS"), "BENCH_NUMBERS not set"))
  headers = common.auth_headers()
  store = os.getenv("BENCH_STORE") or "GNT01"
  math.randomseed(os.time() * 100 + thread_id)
end

function request()
  local number = numbers[math.random(#numbers)]
  local body = '{"store": "' .. store .. '", "query": "' .. number .. '"}'
  return wrk.format("POST", "/api/v1/members/lookup/", headers, body)
end
