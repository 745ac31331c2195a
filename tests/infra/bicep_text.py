"""Just enough Bicep reading for the infra contract tests.

Not a Bicep parser: it splits a file into top-level statements and object
literals into entries, aware of strings, interpolation and comments, so the
tests can ask "which params, outputs, modules, resources and settings exist"
without a compiler on the machine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

OPEN, CLOSE = "([{", ")]}"


def _code_mask(text: str) -> tuple[str, list[bool]]:
    """Return (text without comments, mask) where mask[i] is True for characters
    that are code, i.e. outside string literals (interpolations count as code)."""
    out: list[str] = []
    mask: list[bool] = []
    stack: list[list] = [["code", 0]]  # modes: code / string / interp (with its brace depth)
    i, n = 0, len(text)
    while i < n:
        mode = stack[-1][0]
        c = text[i]
        two = text[i:i + 2]
        if mode in ("code", "interp"):
            if two == "//":
                while i < n and text[i] != "\n":
                    i += 1
                continue
            if two == "/*":
                end = text.find("*/", i + 2)
                i = n if end < 0 else end + 2
                out.append(" ")
                mask.append(True)
                continue
            if text.startswith("'''", i):
                end = text.find("'''", i + 3)
                end = n if end < 0 else end + 3
                out.extend(text[i:end])
                mask.extend([False] * (end - i))
                i = end
                continue
            if c == "'":
                stack.append(["string", 0])
                out.append(c)
                mask.append(False)
                i += 1
                continue
            if mode == "interp":
                if c == "{":
                    stack[-1][1] += 1
                elif c == "}":
                    if stack[-1][1] == 0:
                        stack.pop()
                        out.append(c)
                        mask.append(False)
                        i += 1
                        continue
                    stack[-1][1] -= 1
            out.append(c)
            mask.append(True)
            i += 1
            continue
        # string mode
        if c == "\\" and i + 1 < n:
            out.extend(text[i:i + 2])
            mask.extend([False, False])
            i += 2
            continue
        if two == "${":
            stack.append(["interp", 0])
            out.extend(two)
            mask.extend([False, False])
            i += 2
            continue
        if c == "'":
            stack.pop()
        out.append(c)
        mask.append(False)
        i += 1
    return "".join(out), mask


def strip_comments(text: str) -> str:
    return _code_mask(text)[0]


def _split_depth0(text: str, mask: list[bool], separators: str) -> list[str]:
    """Split at separator characters that are code and at bracket depth 0.
    A line starting with '?' or ':' continues the previous piece (multi-line ternary)."""
    pieces: list[str] = []
    depth, start = 0, 0
    for i, c in enumerate(text):
        if not mask[i]:
            continue
        if c in OPEN:
            depth += 1
        elif c in CLOSE:
            depth -= 1
        elif depth == 0 and c in separators:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    merged: list[str] = []
    for piece in pieces:
        stripped = piece.strip()
        if not stripped:
            continue
        if merged and stripped[0] in "?:":
            merged[-1] = merged[-1] + "\n" + piece
        else:
            merged.append(piece)
    return [p.strip() for p in merged]


def split_top_level(text: str, separators: str = "\n") -> list[str]:
    clean, mask = _code_mask(text)
    return _split_depth0(clean, mask, separators)


@dataclass
class Statement:
    text: str
    decorators: list[str] = field(default_factory=list)

    @property
    def keyword(self) -> str:
        return self.text.split(None, 1)[0]


def statements(text: str) -> list[Statement]:
    """Top-level statements with the decorators written above them."""
    result: list[Statement] = []
    pending: list[str] = []
    for piece in split_top_level(text):
        if piece.startswith("@"):
            pending.append(piece)
            continue
        result.append(Statement(piece, pending))
        pending = []
    return result


def inner(expr: str, opening: str = "{") -> str:
    """Body between the first `opening` bracket (in code) and its match."""
    clean, mask = _code_mask(expr)
    closing = CLOSE[OPEN.index(opening)]
    start = next(i for i, c in enumerate(clean) if mask[i] and c == opening)
    depth = 0
    for i in range(start, len(clean)):
        if not mask[i]:
            continue
        if clean[i] in OPEN:
            depth += 1
        elif clean[i] in CLOSE:
            depth -= 1
            if depth == 0:
                assert clean[i] == closing
                return clean[start + 1:i]
    raise ValueError(f"unbalanced {opening!r} in {expr[:80]!r}")


def object_entries(body: str) -> dict[str, str]:
    """`key: value` entries of an object literal body (keys unquoted)."""
    entries: dict[str, str] = {}
    for piece in split_top_level(body, "\n,"):
        clean, mask = _code_mask(piece)
        colon = next((i for i, c in enumerate(clean) if mask[i] and c == ":"), None)
        if colon is None:
            continue
        key = clean[:colon].strip().strip("'")
        entries[key] = clean[colon + 1:].strip()
    return entries


def property_block(body: str, key: str) -> str | None:
    """Body of the object value of `key` in an object body, or None."""
    value = object_entries(body).get(key)
    if value is None or "{" not in value:
        return None
    return inner(value)


def literal(expr: str | None):
    """Python value of a simple Bicep literal (string without interpolation, int, bool), else None."""
    if expr is None:
        return None
    expr = expr.strip()
    if re.fullmatch(r"'(?:[^'\\$]|\\.|\$(?!\{))*'", expr):
        return expr[1:-1].replace("\\'", "'")
    if re.fullmatch(r"-?\d+", expr):
        return int(expr)
    if expr in ("true", "false"):
        return expr == "true"
    return None


@dataclass
class Param:
    name: str
    type: str
    default: str | None
    decorators: list[str]

    def allowed(self) -> list | None:
        for d in self.decorators:
            if d.startswith("@allowed"):
                return [literal(v) for v in split_top_level(inner(d, "["))]
        return None

    @property
    def secure(self) -> bool:
        return any(d.startswith("@secure") for d in self.decorators)

    @property
    def description(self) -> str | None:
        for d in self.decorators:
            m = re.match(r"@description\((.*)\)\s*$", d, re.S)
            if m:
                return literal(m.group(1))
        return None


@dataclass
class Module:
    symbol: str
    path: str
    params: dict[str, str]
    condition: str | None


@dataclass
class Resource:
    symbol: str
    type: str
    api_version: str
    existing: bool
    loop: bool
    body: str


@dataclass
class BicepFile:
    path: Path
    text: str

    @classmethod
    def load(cls, path: Path) -> "BicepFile":
        return cls(path, path.read_text(encoding="utf-8"))

    @property
    def statements(self) -> list[Statement]:
        return statements(self.text)

    def _declarations(self, keyword: str) -> list[Statement]:
        return [s for s in self.statements if s.keyword == keyword]

    @property
    def params(self) -> dict[str, Param]:
        result = {}
        for s in self._declarations("param"):
            m = re.match(r"param\s+(\w+)\s+(\w+(?:\[\])?)\s*(?:=\s*(.*))?$", s.text, re.S)
            assert m, f"{self.path.name}: cannot read {s.text[:60]!r}"
            result[m.group(1)] = Param(m.group(1), m.group(2), m.group(3), s.decorators)
        return result

    @property
    def variables(self) -> dict[str, str]:
        result = {}
        for s in self._declarations("var"):
            m = re.match(r"var\s+(\w+)\s*=\s*(.*)$", s.text, re.S)
            result[m.group(1)] = m.group(2).strip()
        return result

    @property
    def outputs(self) -> dict[str, tuple[str, str]]:
        result = {}
        for s in self._declarations("output"):
            m = re.match(r"output\s+(\w+)\s+(\w+)\s*=\s*(.*)$", s.text, re.S)
            assert m, f"{self.path.name}: cannot read {s.text[:60]!r}"
            result[m.group(1)] = (m.group(2), m.group(3).strip())
        return result

    @property
    def modules(self) -> dict[str, Module]:
        result = {}
        for s in self._declarations("module"):
            m = re.match(r"module\s+(\w+)\s+'([^']+)'\s*=\s*(?:if\s*\((.*?)\)\s*)?\{", s.text, re.S)
            assert m, f"{self.path.name}: cannot read {s.text[:60]!r}"
            block = property_block(inner(s.text), "params")
            result[m.group(1)] = Module(m.group(1), m.group(2), object_entries(block or ""), m.group(3))
        return result

    @property
    def resources(self) -> list[Resource]:
        result = []
        for s in self._declarations("resource"):
            m = re.match(r"resource\s+(\w+)\s+'([^'@]+)@([^']+)'\s*(existing)?\s*=\s*(.*)$", s.text, re.S)
            assert m, f"{self.path.name}: cannot read {s.text[:60]!r}"
            rest = m.group(5).strip()
            loop = rest.startswith("[") and re.match(r"\[\s*for\b", rest) is not None
            result.append(Resource(m.group(1), m.group(2), m.group(3), bool(m.group(4)), loop, inner(rest)))
        return result
