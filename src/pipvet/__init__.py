"""pipvet: safe-by-default Python package installs."""

__version__ = "0.1.0"
