"""Start and stop inside webui: the queue's settings and the wiring of every part
(`lifecycle`: one start() safe to run again on a UI reload, one stop()), and webui
stopping (`shutdown`: the running task is recorded first).

May import: every other folder."""
