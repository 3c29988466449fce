"""Module ``scheduling``: cron, interval and one-off tasks, declared in code or
managed over HTTP, sent by a scheduler that is safe to run twice."""
