"""``python -m synth --out DIR --households N --seed S``"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from synth import SynthConfig, generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m synth", description="Generate synthetic department extracts.")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--config", type=Path, help="JSON file with SynthConfig fields")
    args = parser.parse_args(argv)
    config = SynthConfig.model_validate_json(args.config.read_text()) if args.config else SynthConfig()
    summary = generate(args.out, households=args.households, seed=args.seed, config=config)
    print(json.dumps({"seconds": summary.seconds, "households": summary.households, "persons": summary.persons,
                      "files": len(summary.files), "rows": summary.rows, "defects": sum(summary.defects.values())},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
