"""MedEx Practice domain: pure Python, no DOM, no IndexedDB, no pyodide imports.

Runs identically under CPython (tests) and Pyodide (browser).
"""

APP_VERSION = "0.1.0"
