"""Text that may not be text: lone surrogates, what undecodable bytes become in Python.

A command-line argument holding bytes that are not UTF-8 arrives as lone surrogates
(U+DC80..U+DCFF, Python's ``surrogateescape``); so does a JSON string with an escaped
``"\\ud800"``, or a browser textbox holding half an emoji. No tokenizer or JSON encoder can
take them, so a question holding one is refused here, before anything else reads it.
"""

from __future__ import annotations

import re

from iqtibas.records import IqtibasError

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# surrogateescape maps an undecodable byte b (0x80..0xff) to U+DC00 + b.
ESCAPED_BYTES = range(0xDC80, 0xDD00)
REPLACEMENT = "\ufffd"


def usable_text(text: str, what: str = "the question") -> str:
    """``text`` itself when it is all Unicode text; else IqtibasError naming the first bad character."""
    found = LONE_SURROGATE.search(text)
    if found is None:
        return text
    codepoint = ord(found.group())
    if codepoint in ESCAPED_BYTES:
        bad = f"byte 0x{codepoint - 0xDC00:02x} at character {found.start() + 1}, which is not UTF-8"
    else:
        bad = f"a lone surrogate U+{codepoint:04X} at character {found.start() + 1}"
    raise IqtibasError(f"{what} is not valid text ({bad}): retype it, or save it as UTF-8")


def printable_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so it can be shown and sent as JSON."""
    return LONE_SURROGATE.sub(REPLACEMENT, text)
