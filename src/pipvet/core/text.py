"""Text from artifacts made safe to print on a terminal.

A member path, an evidence excerpt or a filename comes from the package being vetted: control
characters in it (ESC sequences that move the cursor or erase lines, carriage returns, bidi
overrides that reorder what is shown) could hide or rewrite the verdict printed around it. They are
shown as escapes instead (``\\x1b``, ``\\r``, ``\\u202e``); everything else is printed as it is.
"""

from __future__ import annotations

import re

# C0 controls (except tab), DEL, C1 controls, and the format characters that reorder or hide
# text: bidi controls (LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI, LRM/RLM/ALM), zero-width and
# invisible characters (ZWSP/ZWNJ/ZWJ, word joiner, invisible operators, soft hyphen, BOM),
# interlinear annotation and tag characters, plus line and paragraph separators.
_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0001\U000e0020-\U000e007f]"
)


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def escape_terminal(s: str) -> str:
    """``s`` with every control or bidi character shown as an escape (``\\x1b``, ``\\u202e``)."""
    return _UNSAFE.sub(_visible, s)


__all__ = ["escape_terminal"]
