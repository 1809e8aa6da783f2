"""The one severity scale of pipvet, shared by ``audit`` (advisories) and ``scan`` (findings).

Bands follow the CVSS v3.1/v4.0 qualitative scale. The two reports keep the words their formats
have always used: audit says ``none`` and ``moderate`` (like npm), scan says ``info`` and ``medium``
(like SARIF tools); both words read back to the same member. ``UNKNOWN`` (an advisory with no usable
score) sorts lowest, but a threshold treats it as possibly anything.
"""

from __future__ import annotations

import enum


class Severity(enum.IntEnum):
    """Ordered bands: compare and sort them as numbers."""

    UNKNOWN = -1
    NONE = 0
    LOW = 1
    MODERATE = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        """The audit word: ``unknown``, ``none``, ``low``, ``moderate``, ``high``, ``critical``."""
        return self.name.lower()

    @property
    def scan_label(self) -> str:
        """The scan word: ``info``, ``low``, ``medium``, ``high``, ``critical``."""
        return _SCAN_WORDS.get(self, self.label)

    @classmethod
    def from_label(cls, text: str) -> Severity:
        """Either vocabulary (and ``important``), any case; ``UNKNOWN`` for anything else."""
        key = text.strip().upper()
        key = {"MEDIUM": "MODERATE", "IMPORTANT": "HIGH", "INFO": "NONE"}.get(key, key)
        try:
            return cls[key]
        except KeyError:
            return cls.UNKNOWN


_SCAN_WORDS = {Severity.NONE: "info", Severity.MODERATE: "medium"}

SCAN_SEVERITIES = tuple(s.scan_label for s in Severity if s is not Severity.UNKNOWN)

# audit's --fail-on thresholds: a band, "unknown" (any finding at all) or "none" (never fail)
AUDIT_FAIL_ON = ("unknown", "low", "moderate", "high", "critical", "none")
