"""UI tests run the workspace as `make run` does: listening on loopback (single-user mode),
unless a test says otherwise with `server_address`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from streamlit import config


@pytest.fixture(autouse=True)
def server_address() -> Iterator[Callable[[str], None]]:
    before = config.get_option("server.address")

    def set_address(address: str) -> None:
        config.set_option("server.address", address)

    set_address("127.0.0.1")
    yield set_address
    config.set_option("server.address", before)
