"""Text from Azure made safe for where it goes, without losing it: a character that cannot go somewhere is shown as
its escape (`\\x1b`, `\\ud800`) instead.

- A terminal gets no control character but line feed and tab (an escape sequence could clear the screen, plant a
  hyperlink or forge a line), no direction override or isolate, no lone surrogate.
- XML (XLSX cells) cannot hold C0 controls but tab, line feed and carriage return, nor lone surrogates.
- Files are UTF-8; a lone surrogate (valid in a JSON escape, not in UTF-8) is written as its escape.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """The text with every control character (but line feed and tab) shown as an escape, e.g. `\\x1b`."""
    return UNPRINTABLE.sub(_escape, text)


def xml_safe(text: str) -> str:
    """The text with what XML 1.0 cannot hold shown as an escape."""
    return NOT_XML.sub(_escape, text)


def utf8(text: str) -> bytes:
    """UTF-8 bytes of the text; a lone surrogate becomes its escape (`\\ud800`), which JSON reads back as it was."""
    return text.encode("utf-8", "backslashreplace")


_Value = TypeVar("_Value", bound=Hashable)


def encoded_once(values: Sequence[_Value], encode: Callable[[_Value], bytes]) -> list[bytes]:
    """Each value's encoding, in order, made once per distinct value: a million report rows hold a few thousand
    distinct reasons, names and verdicts."""
    encoded = {value: encode(value) for value in dict.fromkeys(values)}
    return list(map(encoded.__getitem__, values))
