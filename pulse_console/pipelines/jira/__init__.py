"""The Jira sync pipeline: options, extract, transform, load, sync, and its checkpoint state."""
