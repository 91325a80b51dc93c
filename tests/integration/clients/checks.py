"""What every Python client script here reports with: a failed check prints
"FAIL: <what>" and exits 1, which the C++ tests show with the output."""
import sys


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)
