"""The fixtures of tests/packaging live in recipe_helpers.py (see its docstring)."""

from recipe_helpers import minus_python_configure, plus_python_install  # noqa: F401
