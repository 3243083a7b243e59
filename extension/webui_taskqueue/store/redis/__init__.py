"""The Redis store, for several boxes sharing one queue. `store` (tasks), `users`,
`push`, `live` (running tasks between boxes), `boxes` (which boxes are alive), and the
atomic scripts: `.lua` files in `lua/`, loaded by `scripts`.

May import: records, store."""
