-- create.lua - wrk: POST /fhir/Patient, each a new resident without an ID
-- number (so no two collide), durable, through group commit.
-- report.lua sends the token and prints the RESULT line
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
-- wrk.format's headers argument replaces wrk.headers: set them here
wrk.headers["Content-Type"] = "application/fhir+json"
local n = 0
-- each wrk thread runs its own Lua state with the same default seed: without
-- a seed per thread, every thread created the same residents, so half of
-- all creates were exact duplicates (each one a probable match queued for
-- review in the master patient index)
local threads = 0
setup = function(thread)
   threads = threads + 1
   thread:set("thread_no", threads)
end
init = function(args)
   math.randomseed(os.time() * 1000 + (thread_no or 0) * 7919)
end
-- realistic, varied names: the master patient index scores every create,
-- and names that all sound alike would make every create a review case
local surnames = { "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴",
                   "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "高", "罗" }
local given = { "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋",
                "勇", "艳", "杰", "娟", "涛", "明", "超", "霞", "平", "刚",
                "华", "辉", "鑫", "宇", "浩", "欣", "怡", "轩", "桐", "涵" }

request = function()
   n = n + 1
   local r = math.random
   local body = string.format(
      '{"resourceType":"Patient","name":[{"family":"%s","given":["%s%s"]}],' ..
      '"gender":"%s","birthDate":"%d-%02d-%02d",' ..
      '"telecom":[{"system":"phone","value":"13%09d"}]}',
      surnames[r(#surnames)], given[r(#given)], given[r(#given)],
      (n % 2 == 0) and "female" or "male",
      r(1930, 2023), r(1, 12), r(1, 28), r(0, 999999999))
   return wrk.format("POST", "/fhir/Patient", nil, body)
end
