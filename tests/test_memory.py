"""What keeps the chat server's memory bounded: few sessions kept, freed memory given back, a bounded cache."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from gradio_client import Client

SESSIONS = 2
VISITORS = 5


# In a fresh interpreter: 200 MB in 2 KB blocks (above pymalloc's limit, so glibc's malloc holds them),
# all freed but every thousandth, so the heap cannot shrink from its top by itself; the RSS after
# freeing them, then after release_memory().
FREED_CHILD = """
import re
from pathlib import Path
from iqtibas.chat.app import release_memory
def rss_mib():
    return int(re.search(r"VmRSS:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024
blocks = [bytes(2000) + bytes([number % 256]) for number in range(100_000)]
kept = blocks[::1000]
del blocks
held = rss_mib()
print(release_memory(), held, rss_mib())
"""


def test_release_memory_gives_freed_memory_back():
    done = subprocess.run([sys.executable, "-c", FREED_CHILD], capture_output=True, text=True, check=True)
    released, held, after = done.stdout.split()
    assert released == "True", "this machine's C library is glibc, which has malloc_trim"
    assert float(held) - float(after) > 100, f"the 200 MB freed were not given back: {held} -> {after} MiB"


def test_the_page_keeps_only_its_sessions_and_a_dropped_chat_goes_on(loaded_index, session_config, port):
    from iqtibas.chat import build_app, launch

    config = dataclasses.replace(session_config, host="127.0.0.1", port=port, sessions=SESSIONS)
    demo = build_app(loaded_index, config)
    url = launch(demo, config)
    try:
        asker = Client(url, verbose=False, analytics_enabled=False)
        _, history, _ = asker.predict("What is AUKUS?", [], api_name="/chat")
        for _ in range(VISITORS):  # each client is a new session
            Client(url, verbose=False, analytics_enabled=False).predict("Who wrote the article?", api_name="/ask")
        assert len(demo.state_holder.session_data) <= SESSIONS
        _, history, _ = asker.predict("ما هو أوكوس؟", history, api_name="/chat")
        assert [message["role"] for message in history] == ["user", "assistant"] * 2
    finally:
        demo.close()


def test_the_query_vector_cache_stays_bounded(loaded_index, session_config):
    from iqtibas.chat import answer

    limit = loaded_index._query_vector.size
    for number in range(limit + 20):
        answer(f"What is AUKUS? ({number})", loaded_index, session_config)
    assert len(loaded_index._query_vector) == limit
