"""The browser shell: thin. Screens map routes and actions onto domain services.

``core``, ``render`` and ``screens`` are DOM-free (tested under CPython with the in-memory
repository); only ``browser`` and ``shell`` touch the page and IndexedDB.
"""
