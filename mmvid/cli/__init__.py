"""The command-line layer: flags and config plumbing shared by the tools,
and the tools' own code (``mmvid.cli.train``, ``.test``, ``.benchmark``,
``.export``, ``.demo``, ``.extract_features``) behind ``tools/*.py``,
``demo/demo.py`` and the console commands ``mmvid``, ``mmvid-train``,
``mmvid-test`` and ``mmvid-benchmark``."""
