"""Files Hearth writes hold personal data (ID numbers, health, minors): every
file and folder a Hearth process creates is readable by owner and group only."""

import os

PRIVATE_UMASK = 0o027  # files 0640, folders 0750


def restrict_new_files() -> None:
    os.umask(PRIVATE_UMASK)
