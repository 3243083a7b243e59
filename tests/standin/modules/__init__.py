"""A stand-in for webui's `modules` package: the parts the task-queue extension touches,
re-implemented small, doing real work, and keeping webui v1.10.1's traps."""
