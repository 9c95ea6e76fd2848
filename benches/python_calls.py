"""Latency of single calls through Python: Book.quote and Book.balance on a small book.

Run with the project's .venv after `bindings/python/test.sh` (or `benches/python_replay.sh`
for a release build): `.venv/bin/python benches/python_calls.py`. Prints the median, min and
max of five timings of 20,000 calls each.
"""

import statistics
import timeit

from pointbook import Book, Program


def main() -> None:
    book = Book(Program.sample())
    book.apply({"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-10T15:00:00Z"})
    for i in range(20):
        book.apply({
            "type": "purchase", "id": f"p{i}", "member": "m1", "at": f"2026-02-{i + 1:02d}T15:00:00Z",
            "lines": [{"sku": "LATTE", "category": "coffee", "amount": "4.75"},
                      {"sku": "CROISSANT", "category": "pastry", "amount": "3.50"}],
        })
    basket = {"id": "q", "member": "m1", "at": "2026-03-01T12:00:00Z",
              "lines": [{"sku": "LATTE", "category": "coffee", "amount": "4.75"},
                        {"sku": "CROISSANT", "category": "pastry", "amount": "3.50", "quantity": 2}]}
    calls = 20_000
    for name, call in [("Book.quote", lambda: book.quote(basket)), ("Book.balance", lambda: book.balance("m1"))]:
        runs = [timeit.timeit(call, number=calls) / calls * 1e6 for _ in range(5)]
        print(f"{name}: median {statistics.median(runs):.1f} us (min {min(runs):.1f}, max {max(runs):.1f})")


if __name__ == "__main__":
    main()
