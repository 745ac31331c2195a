"""Large text: anything over a table property's limit lives in a blob; the row holds its name."""
from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any, Iterable
from urllib.parse import quote

from azure.core.exceptions import ResourceNotFoundError

from .keys import MAX_BATCH_INLINE_BYTES, MAX_INLINE_BYTES, log
from .client import AzureBase


class BlobsMixin(AzureBase):
    def _text(self, entity: dict[str, Any], name: str, text: str | None, owner: str,
              uploads: list[tuple[str, str]], budget: list[int] | None = None) -> None:
        """Put ``text`` inline in ``entity[name]`` or, if too large, in a blob (``name``Blob)."""
        if text is None:
            return
        size = len(text.encode("utf-16-le"))
        if size <= MAX_INLINE_BYTES and (budget is None or budget[0] + size <= MAX_BATCH_INLINE_BYTES):
            entity[name] = text
            if budget is not None:
                budget[0] += size
            return
        blob = f"{quote(owner, safe='')}/{uuid.uuid4().hex}"
        entity[name + "Blob"] = blob
        uploads.append((blob, text))

    async def _upload(self, uploads: list[tuple[str, str]]) -> None:
        if not uploads:
            return
        assert self._container is not None
        await asyncio.gather(*(self._container.upload_blob(name, text.encode("utf-8"), overwrite=True)
                               for name, text in uploads))

    async def _read_text(self, entity: dict[str, Any], name: str) -> str | None:
        blob = entity.get(name + "Blob")
        if blob:
            assert self._container is not None
            try:
                downloader = await self._container.download_blob(blob)
            except ResourceNotFoundError:
                log.warning("devhost: large-message blob %s is missing", blob)
                return None
            return (await downloader.readall()).decode("utf-8")
        return entity.get(name)

    async def _delete_blobs(self, names: Iterable[str]) -> None:
        assert self._container is not None
        container = self._container

        async def one(name: str) -> None:
            with contextlib.suppress(ResourceNotFoundError):
                await container.delete_blob(name)

        names = [n for n in names if n]
        if names:
            await asyncio.gather(*(one(n) for n in names))

    async def _delete_blob_prefix(self, owner: str) -> None:
        assert self._container is not None
        names = [b.name async for b in self._container.list_blobs(name_starts_with=quote(owner, safe="") + "/")]
        await self._delete_blobs(names)


    @staticmethod
    def _blob_refs(entity: dict[str, Any]) -> set[str]:
        return {v for k, v in entity.items() if k.endswith("Blob") and v}

