-- identifier.lua - wrk: GET /fhir/Patient?identifier=SYSTEM|ID for resident
-- ID numbers read from $IDS_FILE (one per line), in turn, per thread.
-- report.lua sends the token and prints the RESULT line
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local ids = {}
local path = os.getenv("IDS_FILE")
for line in io.lines(path) do ids[#ids + 1] = line end
local i = 0

setup = function(thread)
   thread:set("offset", math.random(#ids))
end

request = function()
   i = i + 1
   local id = ids[((offset or 0) + i) % #ids + 1]
   return wrk.format("GET",
      "/fhir/Patient?identifier=urn:oid:2.16.156.10011.1.3%7C" .. id)
end

response = function(status, headers, body)
   if status == 200 and not string.find(body, '"total":1', 1, true) then
      io.stderr:write("identifier search did not find exactly one\n")
   end
end
