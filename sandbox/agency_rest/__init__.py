"""Simulated Ministry of Finance HR system: REST/JSON with Vietnamese field names."""
