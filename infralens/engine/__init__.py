"""The snippet engine: parse, run in a worker, cache, render into pages."""

ENGINE_VERSION = "2"  # 2: images carry their alt text
