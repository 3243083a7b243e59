"""What a caller may do with the queue, apart from HTTP: submit, look, stop, delete
(`queue`), reorder and prioritise (`ordering`), and a task as the API shows it
(`task_view`).

May import: records, intake, host, store, scheduling, running, people, push, boxes."""
