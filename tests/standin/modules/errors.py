"""Error reporting as webui does it: print the traceback to stderr and carry on."""

import sys
import traceback

exception_records = []


def record_exception():
    """Keep the exception being handled, for later inspection (webui shows them in sysinfo)."""
    exception_records.append(traceback.format_exc())
    del exception_records[:-5]


def report(message, *, exc_info=False):
    print("***", message, file=sys.stderr)
    if exc_info:
        record_exception()
        print(traceback.format_exc(), file=sys.stderr)


def display(e, task, *, full_traceback=False):
    record_exception()
    print(f"{task or 'error'}: {type(e).__name__}", file=sys.stderr)
    print(traceback.format_exc(), file=sys.stderr)
