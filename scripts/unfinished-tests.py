"""Prints the tests a Swift Testing log shows as started but never passed or failed.

scripts/test.sh calls it when a test run hangs, so the log names where to look.
"""
import re
import sys

started, ended = [], set()
with open(sys.argv[1], errors="replace") as log:
    for line in log:
        if match := re.match(r'◇ Test (".*") started\.$', line):
            started.append(match.group(1))
        elif match := re.match(r'[✔✘] Test (".*?") (?:passed|failed|recorded|with \d)', line):
            ended.add(match.group(1))
for name in dict.fromkeys(started):
    if name not in ended:
        print(f"  {name}")
