"""The store's request gate (``devhost/store/azure/gate.py``): client requests pass at once;
background work takes ``limit`` slots, ``busy_limit`` while a client request is in flight."""
from __future__ import annotations

import asyncio
import contextvars

from devhost.store.azure.gate import RequestGate
from devhost.store.base import background_context


class Holders:
    """Background requests that enter the gate and stay until each is released."""

    def __init__(self, gate: RequestGate) -> None:
        self.gate = gate
        self.inside: dict[int, asyncio.Event] = {}

    async def one(self, number: int) -> None:
        async with self.gate.admit():
            self.inside[number] = release = asyncio.Event()
            await release.wait()
            del self.inside[number]

    def start(self, count: int) -> list[asyncio.Task[None]]:
        return [asyncio.get_running_loop().create_task(self.one(n), context=background_context())
                for n in range(count)]

    def release(self) -> None:
        """Let every request now inside finish."""
        for event in self.inside.values():
            event.set()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_background_work_takes_limit_slots_and_fewer_while_a_client_waits() -> None:
    gate = RequestGate(limit=4, busy_limit=1)
    background = Holders(gate)
    tasks = background.start(6)
    await settle()
    assert len(background.inside) == 4  # (two wait for a slot)

    client_inside = asyncio.Event()
    client_done = asyncio.Event()

    async def client() -> None:
        async with gate.admit():  # (not background work: passes at once)
            client_inside.set()
            await client_done.wait()

    client_task = asyncio.create_task(client(), context=contextvars.Context())
    await settle()
    assert client_inside.is_set()
    background.release()  # the four finish; while the client is in, only one more may enter
    await settle()
    assert len(background.inside) == 1
    client_done.set()
    await client_task
    await settle()
    assert len(background.inside) == 2  # (the client gone: the last one may enter too)
    background.release()
    await asyncio.gather(*tasks)
    assert not background.inside
