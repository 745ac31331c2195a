"""A reader for docs/api.http (VS Code REST Client format): file variables ``@name = value``,
requests separated by ``###``, ``# @name x`` to name a request, and ``{{x.response.body.$.field}}``
to use a field of that request's answer."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HTTP_FILE = Path(__file__).resolve().parents[2] / "docs" / "api.http"
_VARIABLE = re.compile(r"^@(\w+)\s*=\s*(.*)$")
_NAME = re.compile(r"^#\s*@name\s+(\w+)\s*$")
_REQUEST_LINE = re.compile(r"^(GET|POST|PUT|DELETE|PATCH)\s+(\S+)$")
_REFERENCE = re.compile(r"\{\{(\w+)\.response\.body\.\$\.(\w+)\}\}")


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    name: str | None = None

    def resolve(self, variables: dict[str, str], answers: dict[str, Any]) -> Request:
        """Variables and references to earlier answers substituted."""
        def text(value: str) -> str:
            value = _REFERENCE.sub(lambda m: str(answers[m.group(1)][m.group(2)]), value)
            for variable, replacement in variables.items():
                value = value.replace("{{" + variable + "}}", replacement)
            return value

        return Request(self.method, text(self.url), {k: text(v) for k, v in self.headers.items()}, text(self.body),
                       self.name)


def read(path: Path = HTTP_FILE) -> tuple[dict[str, str], list[Request]]:
    variables: dict[str, str] = {}
    requests: list[Request] = []
    for block in re.split(r"^###.*$", path.read_text(), flags=re.MULTILINE):
        name, current, in_body, body = None, None, False, []
        for line in block.splitlines():
            if current is None:
                if match := _VARIABLE.match(line):
                    variables[match.group(1)] = match.group(2).strip()
                elif match := _NAME.match(line):
                    name = match.group(1)
                elif match := _REQUEST_LINE.match(line):
                    current = Request(match.group(1), match.group(2), name=name)
            elif in_body:
                body.append(line)
            elif not line.strip():
                in_body = True
            else:
                header, _, value = line.partition(":")
                current.headers[header.strip()] = value.strip()
        if current is not None:
            current.body = "\n".join(body).strip()
            requests.append(current)
    return variables, requests
