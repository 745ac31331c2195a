"""An SDK function compiled again from its own source with a few exact text substitutions.

For a patch that must keep all of a long SDK function but one expression, copying the function
by hand would be a second copy to keep right. ``rewrite`` takes the installed source instead
(which the patch has already checked against its recorded hash), replaces each given text, which
must occur exactly once, and compiles the result with the original's file name and line numbers
in the globals of the original's module, so names resolve as in the SDK (module-level monkey
patches included) and tracebacks point at the SDK's lines. Free names the substitutions add are
bound from ``closure``.
"""
from __future__ import annotations

import ast
import inspect
import re
import textwrap
from typing import Any, Callable

# Name mangling (``self.__x`` in a class body) and zero-argument ``super()`` need the class body
# the function was compiled in; a function using either is not rewritten.
_NEEDS_CLASS = re.compile(r"\b__\w*[A-Za-z0-9]\b|\bsuper\(\s*\)|\b__class__\b")


def rewrite(function: Any, substitutions: list[tuple[str, str]], closure: dict[str, Any]) -> Callable[..., Any]:
    source = inspect.getsource(function)
    if _NEEDS_CLASS.search(source):
        raise ValueError(f"{function.__qualname__} uses name mangling or super()")
    for old, new in substitutions:
        if source.count(old) != 1:
            raise ValueError(f"{old!r} does not occur exactly once in {function.__qualname__}")
        source = source.replace(old, new)
    tree = ast.parse(textwrap.dedent(source))
    definition = tree.body[0]
    if not isinstance(definition, ast.FunctionDef) or definition.name != function.__name__:
        raise ValueError(f"{function.__qualname__}: unexpected source")
    definition.decorator_list = []
    factory = ast.FunctionDef(
        name="_devhost_factory",
        args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=name) for name in closure], kwonlyargs=[],
                           kw_defaults=[], defaults=[]),
        body=[definition, ast.Return(ast.Name(definition.name, ast.Load()))], decorator_list=[])
    module = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(module)
    ast.increment_lineno(module, function.__code__.co_firstlineno - 1)
    code = compile(module, function.__code__.co_filename, "exec")
    namespace: dict[str, Any] = {}
    exec(code, function.__globals__, namespace)  # defines only the factory, in namespace
    result = namespace["_devhost_factory"](**closure)
    result.__qualname__ = function.__qualname__
    result.__module__ = function.__module__
    result.__doc__ = function.__doc__
    return result
