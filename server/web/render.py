"""Rendering a page: the template plus what every page needs (who, CSRF token, nav)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from .i18n import OWN, install
from .session import CSRF_FIELD, WebUser

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def template_config() -> TemplateConfig:
    return TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=install)


def page(
    template: str,
    user: WebUser | None,
    /,
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
    csrf: str | None = None,
    **context: Any,
) -> Template:
    """`csrf` is for pages without a logged-in user (the login form has a token too)."""
    token = user.csrf if user else (csrf or "")
    base = {"user": user.caller if user else None, "csrf": token, **context}
    base["csrf_field"] = CSRF_FIELD
    base[OWN] = (user.language, user.time_zone) if user else (None, None)
    return Template(template_name=template, context=base, status_code=status, cookies=cookies)
