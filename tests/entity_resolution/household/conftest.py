import sys
from pathlib import Path

# the hand-made frame helpers beside these tests (household_frames.py), whatever pytest's import mode
sys.path.insert(0, str(Path(__file__).parent))
