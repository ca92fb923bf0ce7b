#!/usr/bin/env bash
# Audit every pin in constraints.txt for known vulnerabilities with pip-audit.
#
# pip-audit runs from its own venv (.venv/audit, inside the git-ignored .venv/), pinned below.
# It audits exactly the pins (--no-deps --disable-pip: nothing is resolved or installed) against
# PyPI's vulnerability data (per-release JSON); set AUDIT_SERVICE=osv (and AUDIT_OSV_URL) to ask
# OSV instead. Vulnerabilities kept on purpose are listed in audit-ignore.txt, one `ID  # reason`
# a line, and passed as --ignore-vuln.
#
# Exit codes: 0 every pin audited, no vulnerability outside audit-ignore.txt;
#             1 a vulnerability not in audit-ignore.txt;
#             2 some pins could not be audited (the service did not answer for them): never a green.
set -euo pipefail
cd "$(dirname "$0")/.."

PIP_AUDIT_VERSION=2.10.1
venv=.venv/audit
constraints=${1:-constraints.txt}
ignore_file=audit-ignore.txt

if ! "$venv/bin/pip-audit" --version 2>/dev/null | grep -qx "pip-audit $PIP_AUDIT_VERSION"; then
  echo "Installing pip-audit $PIP_AUDIT_VERSION into $venv ..." >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pip-audit==$PIP_AUDIT_VERSION" 2>/dev/null
fi

args=(-r "$constraints" --no-deps --disable-pip --progress-spinner off --format json --aliases on --desc off)
args+=(--vulnerability-service "${AUDIT_SERVICE:-pypi}")
[ -n "${AUDIT_OSV_URL:-}" ] && args+=(--osv-url "$AUDIT_OSV_URL")
if [ -f "$ignore_file" ]; then
  while read -r id _; do
    args+=(--ignore-vuln "$id")
  done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$ignore_file")
fi

report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
"$venv/bin/pip-audit" "${args[@]}" --output "$report" 2> >(grep -v -e '--no-deps is supported' -e 'pip-compile' -e 'No known vulnerabilities found' >&2) ||
  status=$?

# pip-audit reports "No known vulnerabilities found" even when it could audit none of the pins
# (a pin the service does not know is skipped with a warning): count the skipped ones ourselves.
"$venv/bin/python" - "$report" "$status" <<'PY'
import json
import sys

report, status = sys.argv[1], int(sys.argv[2])
try:
    with open(report) as f:
        deps = json.load(f)["dependencies"]
except (OSError, ValueError, KeyError):
    print(f"pip-audit produced no report (exit {status})", file=sys.stderr)
    sys.exit(2)
skipped = [d for d in deps if d.get("skip_reason")]
found = [(d, v) for d in deps for v in d.get("vulns", [])]
for dep, vuln in found:
    fixes = ", ".join(vuln.get("fix_versions") or []) or "none"
    aliases = ", ".join(vuln.get("aliases") or [])
    print(f"VULNERABLE {dep['name']}=={dep['version']}: {vuln['id']} ({aliases}); fixed in: {fixes}")
print(f"{len(deps) - len(skipped)} of {len(deps)} pins audited, {len(found)} vulnerabilities not in audit-ignore.txt")
if skipped:
    print(f"{len(skipped)} pins could NOT be audited, e.g.: {skipped[0]['skip_reason']}", file=sys.stderr)
    print("the vulnerability service did not answer for them: this is not a pass", file=sys.stderr)
sys.exit(1 if found else 2 if skipped else 0)
PY
