-- report.lua - wrk script shared by the RHIS benchmarks.
--
-- Sends "Authorization: Bearer $RHIS_TOKEN" when RHIS_TOKEN is set (so the
-- token never appears in a process listing) and ends with one
-- machine-readable line that bench/*.sh parse:
--   RESULT rps=... p50_ms=... p90_ms=... p99_ms=... max_ms=... requests=...
--          non2xx=... sockerr=...
local token = os.getenv("RHIS_TOKEN")
if token ~= nil and token ~= "" then
   wrk.headers["Authorization"] = "Bearer " .. token
end

done = function(summary, latency, requests)
   local secs = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "RESULT rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
      "requests=%d non2xx=%d sockerr=%d\n",
      summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000,
      summary.requests, e.status,
      e.connect + e.read + e.write + e.timeout))
end
