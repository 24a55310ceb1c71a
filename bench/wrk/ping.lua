-- The bare endpoint: GET /api/v1/ping/, no authentication, no database.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "GET"
wrk.path = "/api/v1/ping/"
