"""`atlas run`: planning which jobs to run, running them in process, progress, logs and the summary."""
