#!/usr/bin/env python3
"""pip-audit over the requirements: fail on a known vulnerability, say so when it can't look.

pip-audit asks a vulnerability service about each resolved package. Where that service cannot
be reached (a machine that reaches the package index only), every package comes back skipped:
report that plainly and pass, since nothing was found; any vulnerability found fails the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ["requirements.txt", "requirements-dev.txt"]


def main() -> int:
    audit = Path(sys.executable).parent / "pip-audit"
    args = [str(audit), "--progress-spinner", "off", "--format", "json"]
    for name in REQUIREMENTS:
        args += ["-r", str(ROOT / name)]
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        print("pip-audit: timed out reaching the vulnerability service; NOT AUDITED")
        return 0
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        tail = (result.stderr or result.stdout)[-1500:]
        if "ConnectionError" in tail or "Max retries" in tail or "Name or service" in tail:
            print("pip-audit: the vulnerability service cannot be reached; NOT AUDITED")
            return 0
        print("pip-audit failed:\n" + tail)
        return 1
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"VULNERABLE {dep['name']} {dep.get('version')}: {vuln['id']} (fixed in {fixes})")
    audited = len(dependencies) - len(skipped)
    print(
        f"pip-audit: {len(dependencies)} packages resolved, {audited} audited, "
        f"{len(skipped)} could not be audited, {len(vulnerable)} vulnerable"
    )
    if skipped and not audited:
        print(
            "pip-audit: the vulnerability service answered for no package (unreachable from "
            "this machine); NOT AUDITED. Run `.ci/audit.py` where it can be reached."
        )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
