"""Package sources: scenario files (in memory), local wheel folders and HTTP simple indexes."""
