"""Files (evidence scans, PDFs, images) behind a small storage interface; on disk under var/ by default."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Protocol

from app.config import settings


class Storage(Protocol):
    def save(self, data: bytes, *, suffix: str) -> str: ...
    def open(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Content lives in `root/<2 chars>/<random key><suffix>`; keys never come from user input."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if "/" in key or "\\" in key or key.startswith("."):
            raise ValueError("invalid storage key")
        return self.root / key[:2] / key

    def save(self, data: bytes, *, suffix: str) -> str:
        key = secrets.token_hex(16) + suffix
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return key

    def open(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def get_storage() -> Storage:
    return LocalStorage(Path(settings.storage_dir))


# What evidence files may be: the type is decided from the bytes, not the name the browser sent.
ALLOWED_TYPES = {
    "application/pdf": (".pdf", [b"%PDF-"]),
    "image/png": (".png", [b"\x89PNG\r\n\x1a\n"]),
    "image/jpeg": (".jpg", [b"\xff\xd8\xff"]),
}


class RejectedFile(ValueError):
    pass


def sniff(data: bytes) -> tuple[str, str]:
    """(content type, suffix) of an allowed file, or RejectedFile with a Chinese message."""
    if not data:
        raise RejectedFile("文件为空")
    if len(data) > settings.max_upload_mb * 1024 * 1024:
        raise RejectedFile(f"文件不能超过 {settings.max_upload_mb} MB")
    for content_type, (suffix, magics) in ALLOWED_TYPES.items():
        if any(data.startswith(m) for m in magics):
            return content_type, suffix
    raise RejectedFile("只能上传 PDF、PNG 或 JPEG 文件")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
