"""Hearth benchmark suite: ``python -m bench [--sizes 25000,50000,100000] [--out bench/results.json]``.

Each phase (synth, plain read, ingestion, linkage, end-to-end ``hearth run``,
warehouse build + publish) runs in its own process so that its peak memory and
CPU time are its own (``os.wait4`` gives the child's rusage). Results go to a
JSON file and a Markdown table; ``python -m bench.readme`` pastes the table
into README.md.
"""
