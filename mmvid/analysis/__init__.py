"""Measuring and inspecting: inference speed and memory
(:mod:`~mmvid.analysis.speed`), machine facts
(:mod:`~mmvid.analysis.machine`), model complexity
(:mod:`~mmvid.analysis.complexity`) and training logs
(:mod:`~mmvid.analysis.log_analysis`)."""
