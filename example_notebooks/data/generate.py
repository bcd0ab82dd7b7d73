"""Generate the example's input data: ``orders.csv`` and ``customers.csv``.

Deterministic (one ``random.Random(42)``, standard library only): running it again writes the
same bytes, so the committed CSVs beside this script are exactly its output.

    python example_notebooks/data/generate.py [OUT_DIR]      # default: this script's folder

The orders are slightly messy on purpose, so the notebook's ``clean_orders`` node has real work:
a few rows have no amount, some statuses carry stray whitespace or capitals, and a few orders
appear twice (an at-least-once export).
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import date, timedelta
from pathlib import Path

SEED = 42
N_CUSTOMERS = 200
N_ORDERS = 2000
N_DUPLICATES = 12

REGIONS = ("North", "South", "East", "West", "Central")
STATUSES = ("paid", "pending", "refunded", "cancelled")
STATUS_WEIGHTS = (70, 15, 8, 7)
# fmt: off
FIRST_NAMES = (
    "Ada", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
    "Keiko", "Liam", "Maya", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
)
LAST_NAMES = (
    "Alvarez", "Bauer", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva",
)
# fmt: on


def customers(rng: random.Random) -> list[dict[str, object]]:
    start, days = date(2023, 1, 1), (date(2024, 12, 31) - date(2023, 1, 1)).days
    return [
        {
            "customer_id": i,
            "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "region": rng.choice(REGIONS),
            "signup_date": (start + timedelta(days=rng.randint(0, days))).isoformat(),
        }
        for i in range(1, N_CUSTOMERS + 1)
    ]


def orders(rng: random.Random) -> list[dict[str, object]]:
    start, days = date(2025, 1, 1), (date(2025, 12, 31) - date(2025, 1, 1)).days
    rows: list[dict[str, object]] = []
    for order_id in range(1, N_ORDERS + 1):
        status = rng.choices(STATUSES, weights=STATUS_WEIGHTS)[0]
        # Order values are skewed like real baskets: many small, a few large.
        amount = f"{min(2500.0, max(1.0, rng.lognormvariate(4.0, 0.8))):.2f}"
        mess = rng.random()
        if mess < 0.015:
            amount = ""  # the export lost the amount
        elif mess < 0.035:
            status = f" {status} "
        elif mess < 0.05:
            status = f"{status.upper()}  "
        rows.append(
            {
                "order_id": order_id,
                "customer_id": rng.randint(1, N_CUSTOMERS),
                "order_date": (start + timedelta(days=rng.randint(0, days))).isoformat(),
                "status": status,
                "amount": amount,
            }
        )
    for row in rng.sample(rows, N_DUPLICATES):
        rows.insert(rng.randint(0, len(rows)), dict(row))
    return rows


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def generate(out_dir: Path) -> list[Path]:
    """Write both CSVs into ``out_dir`` and return their paths."""
    rng = random.Random(SEED)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in (("customers.csv", customers(rng)), ("orders.csv", orders(rng))):
        write_csv(out_dir / name, rows)
        written.append(out_dir / name)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    for path in generate(target):
        print(f"wrote {path}")
