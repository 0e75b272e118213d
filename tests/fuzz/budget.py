"""The fuzzing budget and the hostile values every parser's fuzz test draws from.

Each test runs a fixed number of examples from a derandomized search (the same examples on
every run and machine, no example database), so CI is reproducible and the folder runs in
well under a minute; raise FUZZ_EXAMPLES_FACTOR for a longer run on demand.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FACTOR = max(1, int(os.environ.get("FUZZ_EXAMPLES_FACTOR", "1")))


def budget(examples: int) -> settings:
    return settings(max_examples=examples * FACTOR, deadline=timedelta(seconds=5),
                    derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture,
                                           HealthCheck.filter_too_much])


# Integers at and around every boundary a column, a JSON reader or int() has.
EDGE_INTS = [0, 1, -1, 2**31 - 1, 2**31, 2**53 - 1, 2**53, 2**63 - 1, 2**63, -(2**63) - 1,
             10**20, -(10**20), 10**400]
INTS = st.integers() | st.sampled_from(EDGE_INTS)
# Text that has broken parsers before: controls, bidi, separators, huge, numbers as words.
EDGE_TEXT = ["", " ", "\x00", "\x1b[2J", "\n", "\r\n", "\u202e", "\u2028", "\ufeff",
             "nan", "inf", "-Infinity", "1e999", "1e5", "99999999999999999999,99", "0x10", "١٢",
             "x" * 5000, "é", "\U0001f600", "null", "true", "[]", "{}", '"', "'", ",", ";"]
TEXT = st.text(max_size=40) | st.sampled_from(EDGE_TEXT)
SCALARS = (st.none() | st.booleans() | INTS | TEXT
           | st.floats(allow_nan=True, allow_infinity=True))
JSON = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(TEXT, children, max_size=4), max_leaves=12)


class Deep(str):
    """Text nested far past any recursion limit (hypothesis does not build such by itself),
    shown short in a failure report."""

    def __repr__(self) -> str:
        return f"<{len(self)} characters: {str.__repr__(self[:12])}…>"


def deep(depth: int, kind: int) -> Deep:
    return Deep(["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth,
                 "[" * depth][kind])


DEEP = st.builds(deep, st.integers(500, 200_000), st.integers(0, 2))
