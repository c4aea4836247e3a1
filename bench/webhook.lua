-- wrk script of bench/delivery.sh: the ceiling of the webhook target
-- (nginx answering 200), POSTing a body the size of a reelay webhook.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-CreativeAI-Event"] = "video.generation.completed"
wrk.headers["X-CreativeAI-Signature"] = "sha256=" .. string.rep("0", 64)
wrk.body = '{"id":"vgen_0000000000000000000000","object":"video.generation",' ..
  '"status":"completed","model":"kling-v3","prompt":"' .. string.rep("x", 300) ..
  '","output_url":"http://127.0.0.1:8090/output/task-000000000000.mp4",' ..
  '"credits":3,"failover_used":false,"created_at":"2025-01-01T00:00:00Z",' ..
  '"completed_at":"2025-01-01T00:00:01Z","status_history":[]}'
