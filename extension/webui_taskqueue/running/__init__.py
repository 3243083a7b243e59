"""Running tasks one at a time under webui's lock: the `worker`, a task's `progress`
and ETA, and `failures` in a row that pause the queue.

May import: records, host, store, scheduling."""
