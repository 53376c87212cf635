"""`make fuzz`: a thorough schemathesis run against the app on a loopback port.

Prints the requests answered, each distinct failure with a curl line to reproduce it, and the
statuses every operation answered; exits 1 when anything failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from tests.fuzz.harness import fuzz_target
from tests.fuzz.runner import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=200, help="examples per operation (default 200)")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--no-coverage", action="store_true", help="skip the boundary-value (coverage) phase")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)  # the app logs every ignored webhook; the report says enough
    started = time.perf_counter()
    with fuzz_target() as target:
        report = run(target, max_examples=args.examples, seed=args.seed, coverage=not args.no_coverage)
    print(report.describe())
    print(f"\n{'operation':<28} answers (status × count)")
    by_operation: dict[str, list[str]] = {}
    for (operation, status), count in sorted(target.requests.seen.items()):
        by_operation.setdefault(operation, []).append(f"{status}×{count}")
    for operation, answers in by_operation.items():
        label = operation if operation != "None" else "(no operation: 405 etc.)"
        print(f"{label:<28} {' '.join(answers)}")
    refused = f"; connections refused beyond loopback: {target.refused}" if target.refused else ""
    elapsed = time.perf_counter() - started
    print(f"\n{args.examples} examples per operation, seed {args.seed}, {elapsed:.0f} s{refused}")
    return 0 if report.clean and not target.refused else 1


if __name__ == "__main__":
    sys.exit(main())
