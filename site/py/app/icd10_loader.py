"""Fetch the ICD-10-CM index the first time a search needs it (never at start-up).

The build writes the index as a text file (served brotli- or gzip-encoded) and puts its path
on <html data-icd10-index>.
"""

from __future__ import annotations

import js
from pyodide.http import pyfetch

from medex.icd10 import Icd10Index

_index: Icd10Index | None = None


async def load_icd10_index() -> Icd10Index:
    global _index
    if _index is None:
        url = str(js.document.documentElement.dataset.icd10Index or "")
        if not url or url.startswith("%"):
            raise RuntimeError("The ICD-10-CM code list is missing from this build")
        response = await pyfetch(url)
        if not response.ok:
            raise RuntimeError(f"The ICD-10-CM code list could not be read ({response.status})")
        _index = Icd10Index.from_bytes(await response.bytes())
    return _index
