"""HTTP surface of the local host."""
from .app import build_web_app  # noqa: F401
from .keys import AuthPolicy, HostKeys  # noqa: F401
