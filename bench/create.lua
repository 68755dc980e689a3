-- create.lua - wrk: POST /fhir/Patient, each a new resident without an ID
-- number (so no two collide), durable, through group commit.
-- report.lua sends the token and prints the RESULT line
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
-- wrk.format's headers argument replaces wrk.headers: set them here
wrk.headers["Content-Type"] = "application/fhir+json"
local n = 0
local surnames = { "王", "李", "张", "刘", "陈", "杨", "赵", "黄" }

setup = function(thread)
   thread:set("tid", math.random(1000000))
end

request = function()
   n = n + 1
   local s = surnames[n % #surnames + 1]
   local body = string.format(
      '{"resourceType":"Patient","name":[{"family":"%s","given":["测%d"]}],' ..
      '"gender":"%s","birthDate":"19%02d-%02d-%02d"}',
      s, (tid or 0) * 1000000 + n, (n % 2 == 0) and "female" or "male",
      n % 100, n % 12 + 1, n % 28 + 1)
   return wrk.format("POST", "/fhir/Patient", nil, body)
end
