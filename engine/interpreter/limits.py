"""The bounds every expression and script is held to.

The counters are the real limits: they make a run's cost independent of the machine. The
wall-clock ``MAX_SECONDS`` is only a backstop.
"""
from __future__ import annotations

MAX_SOURCE = 20_000       # characters of expression/script text
MAX_DEPTH = 50            # AST and bracket nesting
MAX_ITERATION = 10_000    # items in one iterated collection or range()
MAX_STEPS = 100_000       # statements + comprehension items per run
MAX_ITEMS = 1_000_000     # length of one built string/list; "size units" of a stored value
MAX_ALLOC = 10_000_000    # items/characters built in one run, so a loop cannot hoard memory
MAX_DATA_DEPTH = 100      # nesting of a stored value (deeper breaks JSON serialisation)
MAX_SECONDS = 2.0         # wall-clock backstop for a run; the counters above are the real limits
MAX_EXPONENT = 1_000
MAX_INT_BITS = 33_220     # ~10,000 decimal digits
MAX_OP_UNITS = 1_000_000  # estimated work of one operation: ~10 ns a unit in C, so ~10 ms
MAX_OPERAND = 250_000     # size units one operation may measure in its operands (a walk in Python)
