"""The queue's vocabulary, shared by every layer: plain records and the rules that go
with them. A task, its statuses and their one table of transitions; the light record
of a queued task; checkpoints as the queue compares them; users, roles, keys and their
limits; errors in FastAPI's shape.

May import: nothing of the package."""
