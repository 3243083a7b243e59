"""A slow disk, for tests that kill the server while it writes (`--disk-seconds S`):
every fsync and every SQLite COMMIT in the server's process waits S seconds first.
Saving a task's images and recording it then take long enough to be hit on purpose."""

import os
import sqlite3
import time


def install(seconds):
    fsync, connect = os.fsync, sqlite3.connect

    def slow_fsync(fd):
        time.sleep(seconds)
        fsync(fd)

    class SlowCommits(sqlite3.Connection):
        def execute(self, sql, *args):
            if sql.strip().upper() == "COMMIT":
                time.sleep(seconds)
            return super().execute(sql, *args)

    def slow_connect(*args, **kwargs):
        kwargs.setdefault("factory", SlowCommits)
        return connect(*args, **kwargs)

    os.fsync = slow_fsync
    sqlite3.connect = slow_connect
