"""The practice-profile form's binder (first run and Settings): field names → ``SaveProfile``::

await save_practice_profile(app.repo, bind_profile(data).command)
"""

from __future__ import annotations

from typing import Any

from medex.services.practice import PROFILE_FIELDS, SaveProfile

from .forms import Bound, checked, texts


def bind_profile(data: dict[str, Any]) -> Bound[SaveProfile]:
    """The typed fields; the logo as the shell read it (``logo_data_url``, a scaled image),
    or removed ("Remove logo" ticked), or else kept."""
    logo = data.get("logo_data_url")
    if checked(data, "remove_logo"):
        logo = ""
    return Bound(
        SaveProfile(
            **texts(data, PROFILE_FIELDS), logo_data_url=str(logo) if logo is not None else None
        )
    )
