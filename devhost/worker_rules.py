"""The Python worker's function-indexing rules, for interpreters the official library cannot run on.

Azure runs the 4.x worker (Azure/azure-functions-python-worker, ``azure_functions_worker/``,
Python 3.11 and 3.12) or the ``azure-functions-runtime`` library (PyPI, Python 3.13+). Both
validate every indexed function in ``Registry.add_indexed_function`` (``functions.py``) and raise
``FunctionLoadError``; one refused function fails the whole indexing request, so the app loads
nothing. Where ``azure_functions_runtime`` is importable, ``devhost.worker_index`` calls it
instead of this module; ``tests/host/conformance`` runs a corpus of apps through both.

Each step names the worker function it copies (``functions.py`` unless stated otherwise).
Messages use the 4.x worker's wording (what Azure shows for 3.11/3.12). Not modelled, because
the local host refuses the bindings that need them anyway: deferred (SDK-type) bindings, the
HTTP streaming extension and the Service Bus settlement client.
"""
from __future__ import annotations

import collections.abc
import inspect
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Union

import azure.functions as func

# FunctionRpc.proto ``BindingInfo``: Direction {in = 0; out = 1; inout = 2}, DataType
# {undefined = 0; ...}. The SDK's ``Binding.direction``/``data_type`` are these ints (or None).
DIRECTION_OUT = 1
DIRECTION_INOUT = 2
DATA_TYPE_UNDEFINED = 0

_TYPING_GENERIC_ALIASES = (typing._GenericAlias, typing._SpecialGenericAlias)  # type: ignore[attr-defined]


class FunctionLoadError(RuntimeError):
    """``functions.py`` ``FunctionLoadError``, same text; ``function_name`` kept for the host."""

    def __init__(self, function_name: str, msg: str) -> None:
        super().__init__(f"cannot load the {function_name} function: {msg}")
        self.function_name = function_name


@dataclass(frozen=True)
class ParamCheck:
    name: str
    binding: Any  # the SDK's Binding object bound to this parameter


# ------------------------------------------------------------- _thirdparty/typing_inspect.py
def is_generic_type(tp: Any) -> bool:
    """``typing_inspect.is_generic_type``: ``typing.Dict[str, Any]`` is generic, while the builtin
    ``dict[str, Any]`` (a ``types.GenericAlias``) is neither generic nor a type."""
    return (isinstance(tp, type) and issubclass(tp, Generic)) or (  # type: ignore[arg-type]
        isinstance(tp, _TYPING_GENERIC_ALIASES)
        and tp.__origin__ not in (Union, tuple, ClassVar, collections.abc.Callable))


def get_origin(tp: Any) -> Any:
    if isinstance(tp, _TYPING_GENERIC_ALIASES[0]):
        return tp.__origin__ if tp.__origin__ is not ClassVar else None
    return Generic if tp is Generic else None


def get_args(tp: Any) -> tuple[Any, ...]:
    if isinstance(tp, _TYPING_GENERIC_ALIASES[0]):
        args = tp.__args__
        if get_origin(tp) is collections.abc.Callable and args[0] is not Ellipsis:
            return (list(args[:-1]), args[-1])
        return tuple(args)
    return ()


# ------------------------------------------------------------- bindings/generic.py, bindings/meta.py
class _GenericBinding:
    """``bindings/generic.py`` ``GenericBinding``: any binding type the SDK has no converter for."""

    @staticmethod
    def check_input_type_annotation(pytype: type) -> bool:
        return issubclass(pytype, (str, bytes))

    @staticmethod
    def check_output_type_annotation(pytype: type) -> bool:
        return issubclass(pytype, (str, bytes, bytearray))


def _converter(binding_type: str) -> Any:
    """``meta.get_binding``: the SDK's converter registry (``load_binding_registry``), else generic."""
    return func.get_binding_registry().get(binding_type) or _GenericBinding


def has_implicit_output(binding_type: str) -> bool:
    """``meta.has_implicit_output``; generic bindings have one, except ``durableClient``."""
    converter = _converter(binding_type)
    if converter is _GenericBinding:
        return binding_type != "durableClient"
    return bool(getattr(converter, "has_implicit_output", lambda: False)())


def _is_out_annotation(anno: Any) -> bool:
    origin = get_origin(anno) if is_generic_type(anno) else None
    target = origin if origin is not None else anno
    return isinstance(target, type) and target.__name__ == "Out"


# ------------------------------------------------------------- functions.py Registry
def check_indexed_function(function: Any) -> None:
    """``Registry.add_indexed_function``: raise ``FunctionLoadError`` where the worker would."""
    fn = function.get_user_function()
    name = function.get_function_name()
    params = dict(inspect.signature(fn).parameters)
    annotations = typing.get_type_hints(fn)
    bound: dict[str, Any] = {}
    explicit_return = False
    return_binding_type: str | None = None
    for binding in function.get_bindings():
        _validate_binding_direction(binding, name)
        if binding.name == "$return":  # get_explicit_and_implicit_return / get_return_binding
            return_binding_type = return_binding_type if explicit_return else binding.type
            explicit_return = True
            continue
        bound[binding.name] = binding
        if has_implicit_output(binding.type) and not explicit_return:
            return_binding_type = binding.type
    _check_context_param(params, bound, annotations, name)
    _validate_function_params(params, bound, annotations, name)
    if explicit_return and "return" in annotations:
        _check_return_annotation(annotations["return"], return_binding_type or "", name)


def _validate_binding_direction(binding: Any, name: str) -> None:
    if binding.direction == DIRECTION_INOUT:
        raise FunctionLoadError(name, '"inout" bindings are not supported')
    if binding.name == "$return" and binding.direction != DIRECTION_OUT:
        raise FunctionLoadError(name, '"$return" binding must have direction set to "out"')


def _check_context_param(params: dict[str, Any], bound: dict[str, Any], annotations: dict[str, Any],
                         name: str) -> None:
    """``is_context_required``: an unbound ``context`` gets ``azure.functions.Context``."""
    if "context" not in params or "context" in bound:
        return
    params.pop("context")
    anno = annotations.get("context", func.Context)
    if not isinstance(anno, type) or anno.__name__ != "Context":
        raise FunctionLoadError(name, 'the "context" parameter is expected to be of type '
                                      f"azure.functions.Context, got {anno!r}")


def _validate_function_params(params: dict[str, Any], bound: dict[str, Any], annotations: dict[str, Any],
                              name: str) -> None:
    """``validate_function_params``: names match both ways, then each annotation fits its binding."""
    if set(params) - set(bound):
        raise FunctionLoadError(name, "the following parameters are declared in Python but not in the function "
                                      "definition (function.json or function decorators):  "
                                      f"{set(params) - set(bound)!r}")
    if set(bound) - set(params):
        raise FunctionLoadError(name, "the following parameters are declared in the function definition "
                                      "(function.json or function decorators) but not in Python: "
                                      f"{set(bound) - set(params)!r}")
    for param in params:
        if param in annotations:
            _check_param_annotation(ParamCheck(param, bound[param]), annotations[param], name)


def _check_param_annotation(param: ParamCheck, anno: Any, name: str) -> None:
    binding = param.binding
    is_param_out = _is_out_annotation(anno)
    is_binding_out = binding.direction == DIRECTION_OUT
    py_type = anno
    if is_param_out:
        args = get_args(anno)
        if len(args) != 1:
            raise FunctionLoadError(name, f"binding {param.name} has invalid Out annotation {anno!r}")
        py_type = args[0]
    if not isinstance(py_type, type) and not is_generic_type(py_type):
        raise FunctionLoadError(name, f"binding {param.name} has invalid non-type annotation {anno!r}")
    if is_binding_out and not is_param_out:
        raise FunctionLoadError(name, f'binding {param.name} is declared to have the "out" direction, but its '
                                      "annotation in Python is not a subclass of azure.functions.Out")
    if not is_binding_out and is_param_out:
        raise FunctionLoadError(name, f'binding {param.name} is declared to have the "in" direction in the '
                                      "function definition (function.json or function decorators), but its "
                                      "annotation is azure.functions.Out in Python")
    bind_type = binding.type
    if py_type in (str, bytes) and not has_implicit_output(binding.type):
        bind_type = "generic"
    converter = _converter(bind_type)
    fits = (converter.check_output_type_annotation(py_type) if is_param_out
            else converter.check_input_type_annotation(py_type))
    if fits:
        return
    if binding.data_type is not DATA_TYPE_UNDEFINED:  # ``is not``: the SDK's None is not 0 either
        raise FunctionLoadError(name, f'{param.name!r} binding type "{binding.type}" and dataType '
                                      f'"{binding.data_type}" in function definition (function.json or '
                                      "function decorators) do not match the corresponding function "
                                      f"parameter's Python type annotation \"{py_type.__name__}\"")
    raise FunctionLoadError(name, f"type of {param.name} binding in function definition (function.json or "
                                  f'function decorators) "{binding.type}" does not match its Python '
                                  f'annotation "{py_type.__name__}"')


def _check_return_annotation(anno: Any, binding_type: str, name: str) -> None:
    """``get_function_return_type``, for an explicit ``$return`` binding."""
    if is_generic_type(anno) and get_origin(anno) is not None and get_origin(anno).__name__ == "Out":
        raise FunctionLoadError(name, "return annotation should not be azure.functions.Out")
    if not isinstance(anno, type):
        raise FunctionLoadError(name, f"has invalid non-type return annotation {anno!r}")
    if not _converter(binding_type).check_output_type_annotation(anno):
        raise FunctionLoadError(name, f'Python return annotation "{anno.__name__}" does not match binding '
                                      f'type "{binding_type}"')
