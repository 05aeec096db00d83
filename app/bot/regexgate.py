"""Cheap pre-checks for regexes: the characters a match must contain.

The bot runs dozens of regex patterns on every message. Most patterns cannot
match unless one of a few characters is in the text ("(来电|市民).{0,6}(反映|称)"
needs 来 or 市 ...); checking that with a set is far cheaper than running the
pattern. ``required_chars`` derives such a set from the parsed pattern, or
returns None when it cannot tell (the pattern then always runs).
"""
from __future__ import annotations

try:  # Python 3.11+
    from re import _constants as C
    from re import _parser as P
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as P  # type: ignore[no-redef]


def _first(items) -> tuple[set[str] | None, bool]:
    """(characters a match of this sequence can start with, whether it can match empty)."""
    chars: set[str] = set()
    for op, av in items:
        first, nullable = _first_item(op, av)
        if first is None:
            return None, False
        chars |= first
        if not nullable:
            return chars, False
    return chars, True


def _first_item(op, av) -> tuple[set[str] | None, bool]:
    if op is C.LITERAL:
        return {chr(av)}, False
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return set(), True            # zero-width
    if op is C.IN:
        chars = set()
        for inner_op, inner_av in av:
            if inner_op is not C.LITERAL:
                return None, False    # ranges, categories, negation: cannot tell cheaply
            chars.add(chr(inner_av))
        return chars, False
    if op is C.SUBPATTERN:
        return _first(av[-1])
    if op is C.BRANCH:
        chars = set()
        nullable = False
        for branch in av[1]:
            first, empty = _first(branch)
            if first is None:
                return None, False
            chars |= first
            nullable = nullable or empty
        return chars, nullable
    if op in (C.MAX_REPEAT, C.MIN_REPEAT):
        low, _high, sub = av
        first, empty = _first(sub)
        if first is None:
            return None, False
        return first, (low == 0 or empty)
    return None, False


def _required(items, cost) -> set[str] | None:
    """The cheapest set of characters of which every match contains at least one."""
    best: set[str] | None = None
    best_cost = 0.0
    for op, av in items:
        candidate: set[str] | None
        if op is C.BRANCH:
            sets = [_required(branch, cost) for branch in av[1]]
            candidate = set().union(*sets) if sets and all(s for s in sets) else None
        elif op is C.SUBPATTERN:
            candidate = _required(av[-1], cost)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            candidate = _required(av[2], cost) if av[0] >= 1 else None
        else:
            first, nullable = _first_item(op, av)
            candidate = first if first and not nullable else None
        if candidate:
            candidate_cost = sum(map(cost, candidate))
            if best is None or candidate_cost < best_cost:
                best, best_cost = candidate, candidate_cost
    return best


def required_chars(pattern: str, frequency: dict[str, int] | None = None) -> frozenset[str] | None:
    """Characters of which every match of ``pattern`` contains one, or None when it cannot tell.

    Of the sets that would do, the one whose characters occur least often in messages
    (``frequency``: character -> count, e.g. in the labelled examples): "(咣|哐|咚…)…(响|的|一声)"
    is gated on its rare sound words, not on 的. Without frequencies the smallest set wins.
    """
    try:
        parsed = P.parse(pattern)
    except Exception:  # noqa: BLE001 - any doubt: no gate, the pattern always runs
        return None
    if frequency:
        def cost(ch: str) -> float:
            return 1.0 + frequency.get(ch, 0)
    else:
        def cost(ch: str) -> float:
            return 1.0
    found = _required(list(parsed), cost)
    return frozenset(found) if found else None


def required_sets(pattern: str, frequency: dict[str, int] | None = None) -> list[frozenset[str]]:
    """Every set of characters of which a match of ``pattern`` contains one: one set per
    required part of the top-level sequence ("(来电|市民).{0,6}(反映|称)" needs one of 来市 *and*
    one of 反称), the cheapest first (as in ``required_chars``). Empty when it cannot tell.
    A pattern whose second set misses the text cannot match either: the check halves the
    regexes that run."""
    try:
        parsed = list(P.parse(pattern))
    except Exception:  # noqa: BLE001 - any doubt: no gate
        return []
    counts = frequency or {}

    def cost(ch: str) -> float:
        return 1.0 + counts.get(ch, 0)
    first = required_chars(pattern, frequency)
    if first is None:
        return []
    sets = [first]
    for found in _sequence_sets(parsed, cost):
        if found not in sets:
            sets.append(found)
    if len(parsed) == 1 and parsed[0][0] is C.BRANCH:
        # A pattern of alternatives ("等了…天|(都|已经)过去…|…(拖|等)到现在"): the first set joins
        # each alternative's cheapest set; a second one joins each one's next cheapest (every
        # match is one of the alternatives, so it holds one of those characters too).
        per_branch = [_sequence_sets(list(branch), cost) for branch in parsed[0][1][1]]
        if per_branch and all(per_branch):
            joined = frozenset().union(*(found[1] if len(found) > 1 else found[0] for found in per_branch))
            if joined not in sets:
                sets.append(joined)
    sets[1:] = sorted(sets[1:], key=lambda chars: sum(map(cost, chars)))
    return sets


def _sequence_sets(items, cost) -> list[frozenset[str]]:
    """The required set of each part of a sequence that has one, the cheapest first."""
    sets: list[frozenset[str]] = []
    for item in items:
        found = _required([item], cost)
        if found and frozenset(found) not in sets:
            sets.append(frozenset(found))
    return sorted(sets, key=lambda chars: sum(map(cost, chars)))
