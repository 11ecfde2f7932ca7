"""Strawberry types, inputs, payloads, enums and scalars. No writes happen here."""
