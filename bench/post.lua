-- wrk: POST the JSON body in $BODY_FILE to the target (with $BENCH_API_KEY as a bearer key, when
-- set).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = file:read("*a")
file:close()
local key = os.getenv("BENCH_API_KEY")
if key then wrk.headers["Authorization"] = "Bearer " .. key end
