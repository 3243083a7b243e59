"""Checking a request before anything is queued: its JSON body, the fields webui's
request models allow (and the settings `override_settings` may name), the queue's
limits, init images by their header, script arguments. A request that passes is
whole; one that does not gets every problem named, and nothing is stored.

May import: records."""
