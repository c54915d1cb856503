"""Simulated National Population Database (Ministry of Public Security) registry API."""
