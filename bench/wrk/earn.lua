-- Earn for a purchase: POST /api/v1/members/<reference>/earn/ for a random member from the
-- sample file (references a lookup handed out), each request with its own Idempotency-Key so every one writes a ledger row.
-- BENCH_ACTION=quote asks what the basket would earn instead (writes nothing); BENCH_LINES,
-- a JSON array, sends basket lines with it.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local refs, headers, body, prefix, action
local sent = 0

function init(args)
  refs = common.read_lines(assert(os.getenv("BENCH_MEMBER_REFS"), "BENCH_MEMBER_REFS not set"))
  headers = common.auth_headers()
  body = string.format(
    '{"store": "%s", "amount": "%s", "lines": %s}',
    os.getenv("BENCH_STORE") or "GNT01",
    os.getenv("BENCH_AMOUNT") or "12.34",
    os.getenv("BENCH_LINES") or "[]"
  )
  action = os.getenv("BENCH_ACTION") or "earn"
  -- The run id keeps keys unique across runs of the bench against the same database.
  prefix = string.format("bench-%s-%d-", assert(os.getenv("BENCH_RUN"), "BENCH_RUN not set"), thread_id)
  math.randomseed(os.time() * 100 + thread_id)
end

function request()
  sent = sent + 1
  headers["Idempotency-Key"] = prefix .. sent
  local path = "/api/v1/members/" .. refs[math.random(#refs)] .. "/" .. action .. "/"
  return wrk.format("POST", path, headers, body)
end
