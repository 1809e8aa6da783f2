"""What the firewall lets through of one project page: the install gate's own checks.

``decide_project`` runs, on an upstream page already fetched, the checks of
``pipvet.services.gate`` that apply before any file is downloaded: the name (typosquat), the
PEP 792 status (quarantined refuses, archived and deprecated warn), OSV ``MAL-`` records for
every version, and the cooldown (versions uploaded less than the minimum release age ago).
Synchronous (the gate's checks are): the server runs it in a thread.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from pipvet.core.models import PackageId
from pipvet.core.policy import Policy
from pipvet.core.reports.gate import GateIssue


@dataclass(frozen=True)
class Refusal:
    rule: str
    message: str


@dataclass(frozen=True)
class ProjectDecision:
    """A refused project (every file refused) or the versions refused, each with why."""

    name: str
    refused: Refusal | None = None
    versions: dict[str, Refusal] = field(default_factory=dict)  # str(Version) -> why
    warnings: tuple[GateIssue, ...] = ()
    allowed: tuple[GateIssue, ...] = ()  # blocks an allowlist entry lifted

    def version_refusal(self, version: Version | None) -> Refusal | None:
        if self.refused is not None:
            return self.refused
        if version is None:
            return None
        return self.versions.get(str(version))


class _OnePage:
    """The gate's checks read pages through an index object: this one has only the page the
    firewall fetched already (no second request)."""

    def __init__(self, url: str, name: str, page: object) -> None:
        self.url = url
        self._name = name
        self._page = page

    def project_page(self, name: str):
        return self._page


def _refusal(issue: GateIssue) -> Refusal:
    return Refusal(issue.rule, issue.message)


def decide_project(
    name: str,
    upstream_page,  # pipvet.serve.upstream.UpstreamPage
    *,
    index_url: str,
    policy: Policy,
    min_release_age: float | None,
    db_path: Path | None,
    now: dt.datetime | None = None,
) -> ProjectDecision:
    from pipvet.services import gate
    from pipvet.sources.index import file_version

    now = now or dt.datetime.now(dt.timezone.utc)
    issues: list[GateIssue] = []
    names = gate.check_names(
        [name],
        index_url=index_url,
        policy=policy,
        now=now,
        index=_OnePage(index_url, name, upstream_page.page),
    )
    issues += names.issues
    files = [e.file for e in upstream_page.entries]
    versions = sorted({v for f in files if (v := file_version(f)) is not None})
    refused_versions: dict[str, Refusal] = {}
    project_refusal = next((_refusal(i) for i in names.blocks), None)
    if project_refusal is None and versions:
        malware = gate.check_known_malware(
            [PackageId(name, v) for v in versions],
            policy=policy,
            db_path=db_path,
            now=now,  # type: ignore[arg-type]
        )
        issues += malware.issues
        for issue in malware.blocks:
            _, _, version = issue.package.partition("==")
            if not version:  # the check could not run: it vouches for nothing
                project_refusal = _refusal(issue)
                break
            refused_versions.setdefault(version, _refusal(issue))
        if (
            project_refusal is None
            and versions
            and all(str(v) in refused_versions for v in versions)
        ):
            first = refused_versions[str(versions[-1])]
            project_refusal = Refusal(
                first.rule, f"every version of {name} is known malware ({first.message})"
            )
    age = min_release_age if min_release_age is not None else policy.min_release_age_days
    if project_refusal is None and age:
        cutoff = now - dt.timedelta(days=age)
        for v, when in gate.release_times(files).items():
            if when <= cutoff or str(v) in refused_versions:
                continue
            issue = gate.judge(
                policy,
                package=name,
                version=str(v),
                selectors=["rule:gate.cooldown", "category:index"],
                message=gate.cooldown_message(name, str(v), when, age, now),
                now=now,
            )
            if issue is None:
                continue
            issues.append(issue)
            if issue.action == "block":
                refused_versions[str(v)] = _refusal(issue)
    return ProjectDecision(
        name=name,
        refused=project_refusal,
        versions=refused_versions if project_refusal is None else {},
        warnings=tuple(i for i in issues if i.action == "warn"),
        allowed=tuple(i for i in issues if i.action == "allowed"),
    )
