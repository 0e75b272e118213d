"""A quick look at a TOML text's shape before tomllib reads it.

tomllib recurses once per nested array or inline table (a few thousand `[` end in a
RecursionError) and takes quadratic time and memory on a dotted key with many parts (a
20 kB line `a.a.a...= 1` holds it for seconds and 400 MB). A terminal config nests two or
three levels, so anything far deeper is refused here, naming the line and its key.
"""

from __future__ import annotations

MAX_DEPTH = 16  # arrays and inline tables inside each other
MAX_KEY_PARTS = 16  # parts of one dotted key (`a.b.c` has 3)
_SEPARATORS = frozenset("=,[]{}\n")


def _key_text(text: str, start: int, end: int, section: str) -> str:
    key = " ".join(text[start:end].split()).rstrip("= ")
    key = f"{section}.{key}" if section and key else key or section or "(syntax)"
    return key if len(key) <= 40 else key[:40] + "…"


def _skip_string(text: str, i: int) -> int:
    """The index just past the string starting at text[i] (a quote)."""
    quote = text[i]
    if text.startswith(quote * 3, i):
        end = i + 3
        while True:
            end = text.find(quote * 3, end)
            if end < 0:
                return len(text)
            if quote == "'" or _unescaped(text, end):
                return end + 3
            end += 1
    end = i + 1
    while end < len(text) and text[end] != "\n":
        if text[end] == quote and (quote == "'" or _unescaped(text, end)):
            return end + 1
        end += 1
    return end


def _unescaped(text: str, i: int) -> bool:
    backslashes = 0
    while i - backslashes - 1 >= 0 and text[i - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 0


def toml_shape_problem(text: str) -> tuple[str, str] | None:
    """(key, reason) when the text nests deeper or dots longer keys than a config can hold;
    None when tomllib may read it (it may still find a syntax error)."""
    depth = dots = 0
    line, statement, section = 1, 0, ""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in "\"'":
            end = _skip_string(text, i)
            line += text.count("\n", i, end)
            i = end
            continue
        if char == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if char == ".":  # a value holds at most one (1.5, 00:32:00.99); a key one per part
            dots += 1
            if dots >= MAX_KEY_PARTS:
                return (_key_text(text, statement, i, section),
                        f"line {line}: a dotted key of more than {MAX_KEY_PARTS} parts")
        elif char in _SEPARATORS:
            dots = 0
            if char == "\n":
                line += 1
                if depth == 0:
                    statement = i + 1
            elif char in "[{":
                if depth == 0 and char == "[" and not text[statement:i].strip():
                    end = text.find("]", i)
                    section = text[i:end].strip("[] ") if end > 0 else ""
                    statement = i + 1
                depth += 1
                if depth > MAX_DEPTH:
                    return (_key_text(text, statement, text.find("=", statement, i + 1) + 1 or i,
                                      section),
                            f"line {line}: nested more than {MAX_DEPTH} levels deep")
            elif char in "]}":
                depth = max(depth - 1, 0)
        i += 1
    return None
