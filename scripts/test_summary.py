#!/usr/bin/env python3
"""Counts every TAP subtest in meson's test log (plus fuzz runs) and prints 'N passed, N failed'."""
import json
import re
import sys


def count(testlog, fuzz_summary):
    passed = failed = skipped = 0
    with open(testlog, encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            out = entry.get("stdout") or ""
            oks = len(re.findall(r"^ok \d+.*$", out, re.M))
            skips = len(re.findall(r"^ok \d+ .*# SKIP", out, re.M))
            bad = len(re.findall(r"^not ok \d+", out, re.M))
            if entry.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP") and bad == 0:
                bad = 1  # crashed or bailed out before reporting a subtest
            passed += oks - skips
            skipped += skips
            failed += bad
    try:
        with open(fuzz_summary, encoding="utf-8") as f:
            for line in f:
                passed += line.strip().endswith(" ok")
                failed += line.strip().endswith("FAILED")
    except FileNotFoundError:
        pass
    return passed, failed, skipped


def main():
    passed, failed, skipped = count(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
