"""Shared fixtures: the sample program, the repository root, the CLI binary."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pointbook

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def program() -> pointbook.Program:
    return pointbook.Program.sample()


@pytest.fixture
def book(program: pointbook.Program) -> pointbook.Book:
    return pointbook.Book(program)


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def cli() -> Path:
    """The `pointbook` binary built by the test command (POINTBOOK_CLI), else target/debug."""
    path = Path(os.environ.get("POINTBOOK_CLI", ROOT / "target" / "debug" / "pointbook"))
    if not path.exists():
        pytest.fail(f"{path} not found: build it with `cargo build -p pointbook-cli`")
    return path
