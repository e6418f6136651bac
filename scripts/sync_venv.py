"""Make the running virtualenv match a lock file exactly, then install the project itself (editable, no deps).

Run with the virtualenv's own python: `.venv/bin/python scripts/sync_venv.py requirements.lock`.
Installing over an existing venv (rather than deleting it) keeps it usable by anyone running it meanwhile.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_names(lock: Path) -> set[str]:
    names = set()
    for line in lock.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(canonical(line.split("==", 1)[0]))
    return names


def main(lock_file: str) -> None:
    lock = (ROOT / lock_file).resolve()
    subprocess.run([*PIP, "install", "-r", str(lock)], check=True)
    frozen = subprocess.run(
        [*PIP, "freeze", "--exclude-editable"], check=True, capture_output=True, text=True
    ).stdout
    installed = {canonical(line.split("==", 1)[0]) for line in frozen.splitlines() if "==" in line}
    installed.discard("ladder")  # the project itself, whatever pip takes it for
    extra = sorted(installed - locked_names(lock))
    if extra:
        print("removing packages not in the lock:", " ".join(extra))
        subprocess.run([*PIP, "uninstall", "-y", *extra], check=True)
    if not _installed_editable():
        subprocess.run([*PIP, "install", "--no-deps", "-e", str(ROOT)], check=True)


def _installed_editable() -> bool:
    """True when this checkout is already installed in editable mode (skips a rebuild and a download)."""
    for dist in metadata.distributions(name="ladder"):
        info = json.loads(dist.read_text("direct_url.json") or "{}")
        if info.get("dir_info", {}).get("editable") and info.get("url") == ROOT.as_uri():
            return True
    return False


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "requirements.lock")
