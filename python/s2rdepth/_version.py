"""Package version (kept equal to ``project.version`` in pyproject.toml; a test checks it)."""
__version__ = "0.1.0"
