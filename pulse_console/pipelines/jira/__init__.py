"""The pieces of the Jira sync pipeline: options, checkpoint state, transform, load."""
