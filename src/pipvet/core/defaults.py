"""Defaults that command-line parsers show in their help (importing this costs nothing)."""

DEFAULT_INDEX_URL = "https://pypi.org/simple/"  # the public index, when no --index-url is given
