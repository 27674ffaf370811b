"""The snippet engine: scan pages -> run snippets or take their results
from the cache -> render the results into the pages."""

ENGINE_VERSION = "2"  # 2: images carry their alt text
