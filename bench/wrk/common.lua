-- Shared by the bench scripts: sample values from a file, non-2xx counting, one summary line.
-- Each wrk thread has its own Lua state; setup() and done() run in the main one.

local common = {}

function common.read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then
      lines[#lines + 1] = line
    end
  end
  assert(#lines > 0, "no sample values in " .. path)
  return lines
end

function common.auth_headers()
  return {
    ["Authorization"] = "Token " .. assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN not set"),
    ["Content-Type"] = "application/json",
  }
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_id", #threads)
end

-- Per-thread counters, read back in done().
responses, non2xx, first_bad_status, first_bad_body = 0, 0, 0, ""

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad_status == 0 then
      first_bad_status = status
      first_bad_body = string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local total, bad, status, body = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    total = total + thread:get("responses")
    bad = bad + thread:get("non2xx")
    if status == 0 and thread:get("first_bad_status") ~= 0 then
      status = thread:get("first_bad_status")
      body = thread:get("first_bad_body")
    end
  end
  io.write(string.format("BENCH responses=%d non2xx=%d first_bad_status=%d\n", total, bad, status))
  if status ~= 0 then
    io.write("BENCH first_bad_body=" .. string.gsub(body, "\n", " ") .. "\n")
  end
end

return common
