"""The radar: the platform's penalty ladder applied to findings over time (RULES.md 7).

- ladder.py: policies/penalties.toml, and what it makes of a task as of a time;
- observe.py: what a scan tells the ledger (penalised findings, listings looked at);
- ledger.py: the SQLite ledger of radar tasks and appeals;
- render.py: `compliance radar` output.

Nothing here is imported by `compliance check`.
"""

#: the ledger file when `--ledger` is given without one (in the current folder)
DEFAULT_LEDGER = "compliance-radar.db"
