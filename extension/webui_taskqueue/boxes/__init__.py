"""Several boxes on one queue: what each box says of itself and who sees what of it
(`view`), a box that waits for its name (`name`), a running task answered for by any
box (`live`), and images fetched from the box that made them (`images`).

May import: records, store, scheduling, running."""
