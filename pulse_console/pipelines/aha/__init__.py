"""The Aha! source: options, extract, transform, load and sync (the ``aha_sync`` job)."""
