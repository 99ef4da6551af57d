"""Jobs: the scheduler, its store and the task runtime (each task a subprocess)."""
