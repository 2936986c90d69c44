-- wrk script for bench-http.sh: cycles through pre-signed deliveries, each
-- thread through its own share, so every request carries a distinct event
-- id until the file is exhausted (the script reports how many were fresh).
--
-- Environment: BENCH_REQUESTS (the generated file), BENCH_PATH (the target
-- path), BENCH_THREADS (wrk's -t).

local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

function init(args)
  local file = os.getenv("BENCH_REQUESTS")
  local path = os.getenv("BENCH_PATH")
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  requests = {}
  local i = 0
  for line in io.lines(file) do
    if i % threads == thread_id then
      local timestamp, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      -- Formatted once here, so each request costs the client no work.
      requests[#requests + 1] = wrk.format("POST", path, {
        ["Content-Type"] = "application/json",
        ["User-Agent"] = "CostKatana-Webhook/1.0",
        ["X-Webhook-Timestamp"] = timestamp,
        ["X-Webhook-Signature"] = signature,
      }, body)
    end
    i = i + 1
  end
  current = 0
end

function request()
  current = current + 1
  if current > #requests then
    current = 1
  end
  return requests[current]
end
