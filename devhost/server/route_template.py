"""ASP.NET Core route templates as the Functions host registers them: the route prefix is part of
the template (WebJobsRouteBuilder.BuildRouteTemplate, Azure/azure-webjobs-sdk-extensions
src/WebJobs.Extensions.Http/Routing/WebJobsRouteBuilder.cs), literals match ignoring case, and
inline constraints (``{id:int}``, ``{g:guid}``, ``{s:length(2,5)}``...) are those of ASP.NET's
DefaultInlineConstraintResolver, applied to the matched value."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from .dotnet_query import try_int

_WS = "[ \\t\\n\\v\\f\\r]*"
_FLOAT = re.compile(f"{_WS}[+-]?(?:[0-9][0-9,]*\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?{_WS}")  # Float|AllowThousands
_DECIMAL = re.compile(f"{_WS}[+-]?(?:[0-9][0-9,]*\\.?[0-9]*|\\.[0-9]+){_WS}")  # NumberStyles.Number
_HEX = "[0-9a-fA-F]"
_GUID = re.compile(f"{_HEX}{{32}}|{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
                   f"|\\{{{_HEX}{{8}}(?:-{_HEX}{{4}}){{3}}-{_HEX}{{12}}\\}}|\\({_HEX}{{8}}(?:-{_HEX}{{4}}){{3}}-{_HEX}{{12}}\\)")
_NAN_INF = {"nan", "infinity", "+infinity", "-infinity", "∞", "+∞", "-∞"}


class RouteTemplateError(ValueError):
    pass


def _is_double(value: str) -> bool:
    return bool(_FLOAT.fullmatch(value)) or value.strip().lower() in _NAN_INF


def _is_datetime(value: str) -> bool:
    # DateTime.TryParse with the invariant culture; ISO 8601 and the common "MM/dd/yyyy" forms
    text = value.strip()
    for parse in (datetime.fromisoformat, lambda t: datetime.strptime(t, "%m/%d/%Y"),
                  lambda t: datetime.strptime(t, "%m/%d/%Y %H:%M:%S")):
        try:
            parse(text)
            return True
        except ValueError:
            continue
    return False


def _constraint(name: str, args: list[str]) -> Callable[[str], bool]:
    """Microsoft.AspNetCore.Routing.Constraints, by their inline names."""
    lowered = name.lower()
    simple: dict[str, Callable[[str], bool]] = {
        "int": lambda v: try_int(v) is not None,
        "long": lambda v: try_int(v, 64) is not None,
        "bool": lambda v: v.strip().lower() in ("true", "false"),
        "guid": lambda v: bool(_GUID.fullmatch(v.strip())),
        "double": _is_double,
        "float": _is_double,
        "decimal": lambda v: bool(_DECIMAL.fullmatch(v)),
        "datetime": _is_datetime,
        "alpha": lambda v: bool(re.fullmatch("[a-zA-Z]*", v)),
        "required": lambda v: v != "",
        "nonfile": lambda v: not _is_file(v),
        "file": _is_file,
    }
    if lowered in simple and not args:
        return simple[lowered]
    numbers = [int(a) for a in args] if lowered != "regex" else []
    if lowered == "min" and len(numbers) == 1:
        return lambda v: (n := try_int(v, 64)) is not None and n >= numbers[0]
    if lowered == "max" and len(numbers) == 1:
        return lambda v: (n := try_int(v, 64)) is not None and n <= numbers[0]
    if lowered == "range" and len(numbers) == 2:
        return lambda v: (n := try_int(v, 64)) is not None and numbers[0] <= n <= numbers[1]
    if lowered == "minlength" and len(numbers) == 1:
        return lambda v: len(v) >= numbers[0]
    if lowered == "maxlength" and len(numbers) == 1:
        return lambda v: len(v) <= numbers[0]
    if lowered == "length" and len(numbers) == 1:
        return lambda v: len(v) == numbers[0]
    if lowered == "length" and len(numbers) == 2:
        return lambda v: numbers[0] <= len(v) <= numbers[1]
    if lowered == "regex" and len(args) == 1:
        pattern = re.compile(args[0], re.IGNORECASE)
        return lambda v: pattern.search(v) is not None
    # DefaultInlineConstraintResolver throws on a constraint it does not know
    raise RouteTemplateError(f"The constraint entry '{name}' could not be resolved.")


def _is_file(value: str) -> bool:
    last = value.rsplit("/", 1)[-1]
    dot = last.rfind(".")
    return 0 < dot < len(last) - 1 or (dot == 0 and len(last) > 1)


@dataclass
class Parameter:
    name: str
    catch_all: bool = False
    optional: bool = False
    default: str | None = None
    constraints: list[Callable[[str], bool]] = field(default_factory=list)


def _parse_parameter(text: str) -> Parameter:
    catch_all = text.startswith("*")
    text = text.lstrip("*")
    found = re.match(r"[^:?=]+", text)
    if not found:
        raise RouteTemplateError(f"Invalid route parameter '{{{text}}}'.")
    param = Parameter(found.group(0), catch_all)
    rest = text[found.end():]
    while rest.startswith(":"):
        head = re.match(r":([A-Za-z]+)", rest)
        if not head:
            raise RouteTemplateError(f"Invalid constraint in '{{{text}}}'.")
        rest = rest[head.end():]
        args: list[str] = []
        if rest.startswith("("):
            close = next((i for i, ch in enumerate(rest) if ch == ")" and (i + 1 == len(rest) or rest[i + 1] in ":?=")), -1)
            if close < 0:
                raise RouteTemplateError(f"Unclosed constraint arguments in '{{{text}}}'.")
            inner = rest[1:close]
            args = [inner] if head.group(1).lower() == "regex" else [a.strip() for a in inner.split(",")]
            rest = rest[close + 1:]
        param.constraints.append(_constraint(head.group(1), args))
    if rest.startswith("?"):
        param.optional, rest = True, rest[1:]
    if rest.startswith("="):
        param.default, rest = rest[1:], ""
    if rest:
        raise RouteTemplateError(f"Invalid route parameter '{{{text}}}'.")
    return param


def _tokens(template: str) -> list[str | Parameter]:
    """Literal text and parameters; '{{' and '}}' are escaped braces, in literals and in parameters."""
    out: list[str | Parameter] = []
    literal, i = "", 0
    while i < len(template):
        ch = template[i]
        if template.startswith("{{", i) or template.startswith("}}", i):
            literal, i = literal + ch, i + 2
        elif ch == "{":
            body, i = "", i + 1
            while i < len(template) and not (template[i] == "}" and not template.startswith("}}", i)):
                step = 2 if template.startswith(("{{", "}}"), i) else 1
                body, i = body + template[i], i + step
            if i >= len(template):
                raise RouteTemplateError(f"Unclosed parameter in '{template}'.")
            if literal:
                out.append(literal)
            out.append(_parse_parameter(body))
            literal, i = "", i + 1
        elif ch == "}":
            raise RouteTemplateError(f"Unmatched '}}' in '{template}'.")
        else:
            literal, i = literal + ch, i + 1
    if literal:
        out.append(literal)
    return out


@dataclass
class RouteTemplate:
    template: str
    pattern: re.Pattern[str]
    parameters: dict[str, Parameter]

    @classmethod
    def parse(cls, template: str) -> "RouteTemplate":
        template = template.strip("/")
        regex, params = "", {}
        tokens = _tokens(template)
        for index, token in enumerate(tokens):
            if isinstance(token, str):
                regex += re.escape(token)
                continue
            params[token.name] = token
            group = f"(?P<p{len(params)}>{'.*' if token.catch_all else '[^/]+'})"
            at_segment_start = index == 0 or (isinstance(tokens[index - 1], str) and tokens[index - 1].endswith("/"))
            if (token.optional or token.catch_all or token.default is not None) and at_segment_start and index:
                # the separator belongs to the optional segment: "jobs/{id?}" matches "jobs"
                regex = regex[: -len(re.escape("/"))] + f"(?:/{group})?"
            elif token.optional or token.catch_all or token.default is not None:
                regex += f"{group}?"
            else:
                regex += group
        return cls(template, re.compile(regex, re.IGNORECASE), params)

    def match(self, path: str) -> dict[str, str] | None:
        """Route values for ``path`` (decoded once, no leading slash; one trailing slash ignored)."""
        if path.endswith("/"):
            path = path[:-1]
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        values: dict[str, str] = {}
        for position, param in enumerate(self.parameters.values(), start=1):
            value = found.group(f"p{position}")
            if not value:
                value = param.default
            if value is None:
                continue
            if not all(check(value) for check in param.constraints):
                return None
            values[param.name] = value
        return values
