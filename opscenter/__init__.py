"""OpsCenter: the back office of a government operations center."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("opscenter")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
