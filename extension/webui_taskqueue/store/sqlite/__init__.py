"""The SQLite store: one file in the queue's folder, WAL, numbered migrations in
`PRAGMA user_version`. `store` (tasks), `users`, `push` (events and webhooks).

May import: records, store."""
