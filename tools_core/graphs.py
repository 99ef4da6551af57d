"""Task graphs: the dependency checks shared by job specs and bundle jobs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def find_cycle(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """One dependency cycle as a closed path of keys (``[a, b, a]``), or ``[]``.

    ``edges`` maps each key to the keys it depends on; targets missing from ``edges`` are
    someone else's error (an unknown key) and are not followed.
    """
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for target in edges.get(node, []):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target in edges and state.get(target) is None:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in edges:
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return []
