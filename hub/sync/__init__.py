"""Synchronisation with the agencies' HR systems: ``hub sync`` and its scheduled mode."""
