"""Install-time code: ``cmdclass`` overrides in ``setup.py`` and code in ``.pth`` files.

What such code *does* is judged by the capability and intent rules with ``when="install"`` or
``"startup"``; this module reports that the hook exists, which is worth knowing on its own.
GuardDog only looks at ``setup.py`` (DataDog/guarddog#312): here every file's install hooks count.
"""

from __future__ import annotations

from pipvet.core.analysis.facts.syntax import code_lines
from pipvet.core.analysis.model import Finding
from pipvet.core.analysis.rules import ROLE_PTH, ROLE_SETUP, FileContext, finding

HOOKED = ("install", "develop", "egg_info", "easy_install", "bdist_egg", "install_lib")


def pth_code(text: str) -> str:
    """The executable lines of a ``.pth`` file (lines starting with ``import``), as one source.

    Pythons split a ``.pth`` file into lines differently: up to 3.12 ``site`` reads it with
    universal newlines (``\\n``, ``\\r``), 3.13 with ``str.splitlines`` (also form feeds,
    ``\\x1c``-``\\x1e``, ``\\x85``, ``\\u2028``). ``import os\\f;os.system(...)`` is one line
    to the first, run whole (a form feed is whitespace); ``x\\fimport ...`` starts a line only to
    the second. Every line either would run is kept."""
    lines: list[str] = []
    for ln in [*code_lines(text), *text.splitlines()]:
        if ln.startswith(("import ", "import\t")) and ln not in lines:
            lines.append(ln)
    return "\n".join(lines)


def check(ctx: FileContext) -> list[Finding]:
    out: list[Finding] = []
    if ctx.role == ROLE_PTH:
        code = pth_code(ctx.text)
        if code:
            out.append(
                finding(
                    "install-time.pth-code",
                    "install-time",
                    "low",
                    ctx,
                    1,
                    "A .pth file runs code at every interpreter start.",
                    code.splitlines()[0],
                )
            )
        return out
    facts = ctx.facts
    if facts is None:
        return out
    if ctx.role == ROLE_SETUP and facts.module_statements > 1:
        out.append(
            finding(
                "install-time.setup-code",
                "install-time",
                "info",
                ctx,
                None,
                "setup.py runs code besides calling setup() (what it does is reported apart).",
                f"{facts.module_statements} top-level statements",
            )
        )
    for cls in facts.classes:
        hooked = [b for b in cls.bases if b.rsplit(".", 1)[-1] in HOOKED]
        if hooked and ("run" in cls.methods or "__init__" in cls.methods):
            out.append(
                finding(
                    "install-time.cmdclass",
                    "install-time",
                    "low" if ctx.role == ROLE_SETUP else "medium",
                    ctx,
                    cls.line,
                    f"Overrides '{hooked[0].rsplit('.', 1)[-1]}': its code runs on install.",
                    f"class {cls.name}({hooked[0]})",
                )
            )
    return out
