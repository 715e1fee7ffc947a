"""The API docs, Swagger UI at ``/docs`` and ReDoc at ``/redoc``, with their scripts and
styles served by the app itself (from the ``fastapi-offline`` package), so they work offline.

Swagger UI starts from one inline script, allowed by a nonce made for each page; both UIs
inject their own styles, so these two pages allow inline styles, and nothing else does.
"""

from __future__ import annotations

import secrets
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from bot.api.headers import content_security_policy

ASSETS_URL = "/docs/assets"
INLINE_SCRIPT = "<script>"


def assets_dir() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def install_docs(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Add the two docs pages to an app built with ``docs_url=None, redoc_url=None``."""
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")
    title = app.title

    @app.get(docs_url, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        nonce = secrets.token_urlsafe(18)
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{title} - API 文档",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=None,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )
        html = bytes(page.body).decode()
        if html.count(INLINE_SCRIPT) != 1:
            raise RuntimeError("Swagger UI page: expected exactly one inline <script> to sign")
        html = html.replace(INLINE_SCRIPT, f'<script nonce="{nonce}">')
        policy = content_security_policy(script=f"'self' 'nonce-{nonce}'", style="'self' 'unsafe-inline'")
        return HTMLResponse(html, headers={"Content-Security-Policy": policy, "Cache-Control": "no-store"})

    @app.get(redoc_url, include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        policy = content_security_policy(style="'self' 'unsafe-inline'")
        return HTMLResponse(bytes(page.body).decode(), headers={"Content-Security-Policy": policy})
