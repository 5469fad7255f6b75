-- PERFORMANCE.md P1 through wrk (Debian's, one thread): durable answer saves
-- or the no-op handler on the same connections.
--   wrk -t1 -c256 -d5s -s answers.lua URL -- save|noop TOKENS_FILE
-- save: PUT /api/v1/answers/ITEM {"answer":"A"|"B","rev":n}. wrk gives a
-- script no handle on the connection a request goes out on, so request k
-- uses token k mod N (N tokens, one per connection) and item (k div N) mod 8
-- + 1 of the sample paper's single-choice items 1 to 8: two requests on the
-- same candidate's same item are 8 N requests apart, and the rev (one
-- counter from the time in microseconds: above anything an earlier run stored) rises with k, so
-- no save is stale unless one is overtaken by 8 N others. Any answer but
-- 200 is counted as an error. done() (which runs in a Lua state of its own,
-- without init's arguments) prints one line:
--   REQUESTS/S P50_MS P99_MS ERRORS
local mode, tokens, k, base = "noop", {}, 0, os.time() * 1e6

function init(args)
  mode = args[1] or "noop"
  if mode == "save" then
    for line in io.lines(args[2]) do
      if #line > 0 then tokens[#tokens + 1] = line end
    end
  end
end

function request()
  if mode ~= "save" then
    return wrk.format("GET", "/api/v1/time")
  end
  local n = #tokens
  local t = tokens[k % n + 1]
  local item = math.floor(k / n) % 8 + 1
  k = k + 1
  local body = string.format('{"answer":"%s","rev":%.0f}', k % 2 == 1 and "A" or "B", base + k)
  return wrk.format("PUT", "/api/v1/answers/" .. item,
                    {["Authorization"] = "Bearer " .. t, ["Content-Type"] = "application/json"},
                    body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout + e.status
  io.write(string.format("%.0f %.2f %.2f %d\n", summary.requests / (summary.duration / 1e6),
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
end
