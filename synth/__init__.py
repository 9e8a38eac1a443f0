"""Synthetic population and department extracts for the demo, the tests and the benchmarks.

``generate(out_dir)`` writes ``out_dir/<department>/<file>`` (what departments would
send, defects included) and ``out_dir/_truth/`` (what is really true); see the
"Ground truth (synth)" section of ``docs/contracts.md``.
"""

from synth.config import DefectRates, SynthConfig, SynthSummary
from synth.generate import generate

__all__ = ["DefectRates", "SynthConfig", "SynthSummary", "generate"]
