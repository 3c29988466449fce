"""Job tracking: the state of any task from enqueue to result."""
