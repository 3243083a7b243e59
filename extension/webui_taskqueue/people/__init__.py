"""Who is calling and what they may do: keys, webui's logins and signed URLs
(`auth`), managing users (`accounts`), a person's own settings (`settings`), and the
owner's command line (`cli`, which needs the standard library only).

May import: records, intake, host, store."""
