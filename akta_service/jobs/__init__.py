"""Where background jobs run: threads in this process (the embedded default), Celery workers
(production), or nowhere until a test runs them; and the sweep's thread for `akta serve`.
Enqueueing after commit and the sweep itself are the core's (`core.jobs`, `core.sweep`)."""
