"""The store's connection lock is granted in turn: a thread that lets it go and asks again at
once waits behind a thread already waiting (so a flush waits for one part of a long read, not
the whole read)."""

from __future__ import annotations

import threading

from agent.store.turns import TurnLock


def test_a_waiting_thread_gets_the_lock_before_the_holder_takes_it_again() -> None:
    lock = TurnLock()
    order: list[str] = []
    asked = threading.Event()
    lock.acquire()

    def flush() -> None:
        asked.set()
        with lock:
            order.append("flush")

    flusher = threading.Thread(target=flush)
    flusher.start()
    asked.wait(timeout=30)
    # the flusher has asked (or is about to): let it take its ticket before we ask again
    for _ in range(10_000):  # bounded
        if lock._issued == 2:
            break
        threading.Event().wait(0.001)
    assert lock._issued == 2
    lock.release()
    with lock:  # the reader's next part: granted after the flush
        order.append("read")
    flusher.join(timeout=30)
    assert order == ["flush", "read"]
