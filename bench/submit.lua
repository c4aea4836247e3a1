-- wrk script: POST a ~300-byte job body with a valid API key.
-- The key comes from the environment (REELAY_BENCH_KEY).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("REELAY_BENCH_KEY")
wrk.body = '{"model":"kling-v3","prompt":"Product reveal animation on white ' ..
  'background, slow dolly-in, soft studio light, 35mm lens, shallow depth ' ..
  'of field, subtle reflections on the table","duration":"5s",' ..
  '"aspect_ratio":"16:9","webhook_url":"https://hooks.example.com/reelay/a"}'
