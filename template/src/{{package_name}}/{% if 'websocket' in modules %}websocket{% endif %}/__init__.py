"""WebSocket rooms: authenticated clients, broadcast across API processes, and
tasks that push their results to the clients waiting for them."""
