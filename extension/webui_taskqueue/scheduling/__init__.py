"""Whose turn it is: the pure policy (`policy`: fair turns, fewer model switches),
its plan kept current (`planner`), learned speeds for ETAs (`speeds`), and the next
checkpoint read into memory ahead of its turn (`readahead`).

May import: records, host, store."""
