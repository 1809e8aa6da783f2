"""Matching installed or locked packages against advisories (OSV semantics)."""
