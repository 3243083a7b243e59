"""Telling people as things happen: event streams fed by one hub (`events`) and
webhooks (`webhooks`: signing, where callbacks may go, the sender).

May import: records, store, scheduling, running."""
