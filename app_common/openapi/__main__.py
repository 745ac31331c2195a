"""``python -m app_common.openapi > docs/openapi.json``"""
import sys

from . import render

sys.stdout.write(render())
