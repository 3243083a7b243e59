"""Where the queue keeps what must outlast a request: tasks, results, people, events.
`contract` spells out the whole store; `live` (a running task as other boxes see it)
and `push` (the event log and the webhook outbox) are its parts. Backends: `memory`,
`sqlite/` (one box) and `redis/` (several boxes); `choose` picks one. Beside them: a
request's large values kept apart (`inputs`), the result files (`images`) and what a
start cleans up (`recovery`). The store knows nothing of scheduling or HTTP.

May import: records."""
