"""The live layer: per-process event hub over the outbox, broker supervision, fan-out."""
