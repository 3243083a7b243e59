"""HTTP: the routes under /queue/v1 (`routes/`, one router per resource), their
`schemas`, and webui's own API as the queue sees it (`doors`, served by
`routes/native`).

May import: records, intake, host, store, scheduling, running, people, push, boxes, service."""
