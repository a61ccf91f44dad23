-- wrk script: POST /v1/admission with a different body every request (read from BODIES, one JSON per line)
local bodies = {}
local n = 0
local i = 0

function init(args)
  local path = os.getenv("BODIES")
  local offset = tonumber(os.getenv("BODIES_THREAD_OFFSET") or "0")
  for line in io.lines(path) do
    n = n + 1
    bodies[n] = line
  end
  i = math.random(0, n - 1)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
  i = i + 1
  if i > n then i = 1 end
  return wrk.format(nil, "/v1/admission", nil, bodies[i])
end
