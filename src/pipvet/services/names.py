"""Checking project names before anything is downloaded: typosquats of popular projects.

``check_project_names`` is what ``pipvet check-names`` calls (and what the install gate can call):
it validates each name (PEP 508) and runs ``pipvet.core.names.check_name`` on it. No network.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipvet.core.errors import UsageError
from pipvet.core.names import check_name
from pipvet.core.reports.names import NamesReport

# PEP 508 project names: letters, digits, and ``-_.`` inside
_VALID = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def check_project_names(names: Sequence[str]) -> NamesReport:
    """Check every name; a name that is not a valid project name is a ``UsageError`` naming it
    (nothing is checked then: a half answer is not one)."""
    if not names:
        raise UsageError("no names to check", hint="give one or more project names")
    for n, name in enumerate(names, 1):
        if not _VALID.match(name):
            raise UsageError(
                f"name #{n} {name!r} is not a valid project name",
                hint="a project name has letters, digits, and - _ . inside (no versions or spaces)",
            )
    return NamesReport(tuple(check_name(name) for name in names))
