"""Pipelines: one package per source, every one the same shape, over a few shared modules.

How to add a source (Azure DevOps, Aha! …): create ``pipelines/<source>/`` with these slots

- ``options.py`` — a frozen ``<Source>SyncOptions`` built from the integration's stored
  ``config`` (``from_integration(ref)``), with defaults, and ``<Source>ConfigError`` whose
  message says what to fix. Nothing else reads ``IntegrationRef.config``.
- ``extract.py`` — the only module that calls the connector: opens the client with the
  token named by ``context.token_secret_name(ctx)``, and yields pages/payloads (validated
  models plus the ``connectors.validation.Rejected`` items set aside). No rows, no SQL.
- ``transform.py`` — pure functions: payload models → row dicts of the canonical schema
  (``storage.models``). No I/O, so tested without a database.
- ``load.py`` — rows → storage, in the caller's transaction: ``storage.load.upsert`` and
  functions of ``storage/`` (``work_items``, ``pull_requests`` …). SQL lives in ``storage/``,
  never here.
- ``sync.py`` — the ``Pipeline`` class (``job_name``, ``run(ctx) -> RunResult``): reads the
  options, opens the client, and per batch calls extract → transform →
  ``checkpoint.commit_batch`` (load + quarantine + checkpoint in one transaction), reporting
  progress and checking cancellation between batches.
- ``state.py`` (when the checkpoint is more than a small dict) — its typed JSON shape.

then add its ``"<type>": "<source>_sync"`` to ``registry.CHAIN`` and its
``"pulse_console.pipelines.<source>.sync:<Source>Sync"`` to ``registry._KNOWN``.

Shared by every source (use these, do not re-write them):

- ``base`` — the engine contract: ``Pipeline``, ``RunContext``, ``Progress``, ``RunResult``.
- ``context`` — ``local_run_context`` for foreground runs; ``token_secret_name``.
- ``checkpoint`` — ``Checkpoint(ctx, scope)`` (read/save one checkpoint row) and
  ``commit_batch``: the single way a batch is committed, so a crash at any instant resumes
  without loss or duplicates.
- ``quarantine`` — the one writer of ``quarantined_payloads`` (validation rejects and
  unreadable responses, ``BadResponse.of(what, BadPayload)``).
- ``progress`` — ``report`` (a consumer's bug never fails a sync) and ``stop_if_cancelled``.
- ``registry`` — job name → pipeline, and the chain order.
- ``work_item_keys`` (work-item keys in PR titles, branches, commits) and ``ci_deployments``
  (which CI runs are deployments, DevLake's rule) — derivations any code-hosting or CI
  source reuses.
"""
