"""Benchmark results as data, and their Markdown rendering."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Goal:
    name: str
    target: str
    measured: str
    met: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return {True: "yes", False: "**no**", None: "—"}[self.met]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def markdown(self) -> str:
        lines = [
            "| " + " | ".join(self.headers) + " |",
            "|" + "|".join("---" for _ in self.headers) + "|",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


@dataclass
class Section:
    """One benchmark's outcome: what it did, its goals and its tables."""

    key: str
    title: str
    method: str
    goals: list[Goal] = field(default_factory=list)
    tables: list[tuple[str, Table]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)

    def markdown(self) -> str:
        parts = [f"## {self.title}", "", self.method.strip(), ""]
        if self.goals:
            goals = Table(["goal", "target", "measured", "met?"])
            for goal in self.goals:
                goals.add(goal.name, goal.target, goal.measured, goal.verdict)
            parts += [goals.markdown(), ""]
        for caption, table in self.tables:
            if caption:
                parts += [caption, ""]
            parts += [table.markdown(), ""]
        parts += [*(f"{note}\n" for note in self.notes)]
        return "\n".join(parts).rstrip() + "\n"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def pct(ratio: float) -> str:
    return f"{ratio * 100:.1f} %"


def duration(seconds: float) -> str:
    """`10 min`, `1 min`, `8 s`."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def runs(count: int) -> str:
    return f"{count} run" + ("" if count == 1 else "s")
