-- A realistic counter mix for bench_load.py: lookups, earns, redemptions, eID scans (armed by
-- the cashier, answered by the store's reader) and now and then a head-office dashboard view.
--
-- Each wrk thread keeps the scans it armed and answers them from the reader they were armed
-- for; every thread has readers of its own, so no arm replaces a scan another one waits on.
--
-- Members are addressed by the references lookups hand out (never by id): half of the earns
-- and member views use one the thread's own lookups just got back, the rest (and redemptions,
-- which need a balance) one from the files bench_load.py filled by looking members up first.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local numbers, earn_refs, redeem_refs, devices, card_tokens
local fresh_refs, fresh_next, FRESH_MAX = {}, 0, 2000
local staff_headers, run_prefix
local pending = {}
local sent, next_device = 0, 0
local store = os.getenv("BENCH_STORE") or "GNT01"

-- Shares of the counter's own actions; an armed scan's answer comes on top of its arm.
local MIX = {
  { "lookup", 0.40 },
  { "earn", 0.30 },
  { "redeem", 0.08 },
  { "arm", 0.10 },
  { "member", 0.10 },
  { "dashboard", 0.02 },
}

local function pick(list)
  return list[math.random(#list)]
end

local function hex64()
  local parts = {}
  for i = 1, 8 do
    parts[i] = string.format("%08x", math.random(0, 0x7fffffff))
  end
  return table.concat(parts)
end

function init(args)
  numbers = common.read_lines(os.getenv("BENCH_NUMBERS"))
  earn_refs = common.read_lines(os.getenv("BENCH_MEMBER_REFS"))
  redeem_refs = common.read_lines(os.getenv("BENCH_REDEEM_REFS"))
  card_tokens = common.read_lines(os.getenv("BENCH_CARD_TOKENS"))
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  devices = {}
  for i, line in ipairs(common.read_lines(os.getenv("BENCH_DEVICES"))) do
    if (i - 1) % threads == thread_id - 1 then
      local id, token = string.match(line, "^(%d+) (%S+)$")
      devices[#devices + 1] = { id = id, token = token }
    end
  end
  staff_headers = common.auth_headers()
  run_prefix = string.format("load-%s-%d-", os.getenv("BENCH_RUN"), thread_id)
  math.randomseed(os.time() * 1000 + thread_id)
end

local function json_headers(extra)
  local h = {}
  for k, v in pairs(staff_headers) do
    h[k] = v
  end
  for k, v in pairs(extra or {}) do
    h[k] = v
  end
  return h
end

-- A reference for an earn or a member view: one a lookup of this thread just got, or one
-- from the file.
local function member_ref()
  if #fresh_refs > 0 and math.random() < 0.5 then
    return pick(fresh_refs)
  end
  return pick(earn_refs)
end

local function keep_ref(ref)
  fresh_next = fresh_next % FRESH_MAX + 1
  fresh_refs[fresh_next] = ref
end

local builders = {}

function builders.lookup()
  return wrk.format("POST", "/api/v1/members/lookup/", staff_headers,
    string.format('{"store": "%s", "query": "%s"}', store, pick(numbers)))
end

function builders.earn()
  sent = sent + 1
  local amount = string.format("%d.%02d", math.random(2, 120), math.random(0, 99))
  return wrk.format("POST", "/api/v1/members/" .. member_ref() .. "/earn/",
    json_headers({ ["Idempotency-Key"] = run_prefix .. sent }),
    string.format('{"store": "%s", "amount": "%s"}', store, amount))
end

function builders.redeem()
  sent = sent + 1
  return wrk.format("POST", "/api/v1/members/" .. pick(redeem_refs) .. "/redeem/",
    json_headers({ ["Idempotency-Key"] = run_prefix .. sent }),
    string.format('{"store": "%s", "points": %d}', store, math.random(5, 40)))
end

function builders.arm()
  next_device = next_device % #devices + 1
  local device = devices[next_device]
  return wrk.format("POST", "/api/v1/eid/scans/", staff_headers, string.format(
    '{"store": "%s", "device": %s, "notice_language": "nl", "consent_given": true}',
    store, device.id))
end

function builders.member()
  return wrk.format("GET", "/api/v1/members/" .. member_ref() .. "/?store=" .. store, staff_headers)
end

function builders.dashboard()
  return wrk.format("GET", "/office/", { ["Cookie"] = os.getenv("BENCH_OFFICE_COOKIE") })
end

local function scan_result(scan)
  -- Most cards are known already; one in four is a new customer joining by eID.
  local token = math.random() < 0.75 and pick(card_tokens) or hex64()
  return wrk.format("POST", "/api/v1/device/scans/" .. scan.id .. "/result/", {
    ["Authorization"] = "Device " .. scan.token,
    ["Content-Type"] = "application/json",
  }, string.format('{"surname": "Peeters", "given_names": "Lotte Marie", "eid_token": "%s"}', token))
end

function request()
  if #pending > 0 and math.random() < 0.5 then
    return scan_result(table.remove(pending, 1))
  end
  local r, acc = math.random(), 0
  for _, entry in ipairs(MIX) do
    acc = acc + entry[2]
    if r <= acc then
      return builders[entry[1]]()
    end
  end
  return builders.lookup()
end

responses, non2xx, server_errors, first_bad_status, first_bad_body = 0, 0, 0, 0, ""

function response(status, headers, body)
  responses = responses + 1
  if status >= 500 then
    server_errors = server_errors + 1
  end
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad_status == 0 then
      first_bad_status = status
      first_bad_body = string.sub(body or "", 1, 200)
    end
    return
  end
  if status == 200 and body and string.find(body, '{"results":', 1, true) then
    local ref = string.match(body, '"reference":"(mr_[%w_%-]+)"')
    if ref then
      keep_ref(ref)
    end
    return
  end
  if status == 201 and body and string.find(body, '"state":"armed"', 1, true) then
    local scan_id = string.match(body, '"scan_id":"([0-9a-f%-]+)"')
    local device_id = string.match(body, '"device_id":(%d+)')
    for _, device in ipairs(devices) do
      if device.id == device_id then
        pending[#pending + 1] = { id = scan_id, token = device.token }
        break
      end
    end
  end
end

local all_threads = {}

function setup(thread)
  all_threads[#all_threads + 1] = thread
  thread:set("thread_id", #all_threads)
end

function done(summary, latency, requests)
  local total, bad, errors, status, body = 0, 0, 0, 0, ""
  for _, thread in ipairs(all_threads) do
    total = total + thread:get("responses")
    bad = bad + thread:get("non2xx")
    errors = errors + thread:get("server_errors")
    if status == 0 and thread:get("first_bad_status") ~= 0 then
      status = thread:get("first_bad_status")
      body = thread:get("first_bad_body")
    end
  end
  io.write(string.format("BENCH responses=%d non2xx=%d server_errors=%d first_bad_status=%d\n",
    total, bad, errors, status))
  if status ~= 0 then
    io.write("BENCH first_bad_body=" .. string.gsub(body, "\n", " ") .. "\n")
  end
end
