"""The scene editor page: plain server-rendered HTML, no external assets.

XRCLOUD hands developers a "creation URL" and a "modification URL" that open an editor. Conclave's
editor is this small form; the signed token in the link is its only credential, so it is carried
in a hidden field and checked again on submit.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import parse_qsl

from conclave.kit.errors import BadRequest
from conclave.scenes.models import SCENE_LAYOUTS, Scene

MAX_FORM_BYTES = 64 * 1024
FORM_FIELDS = ("name", "description", "thumbnail_url", "layout", "background_color", "background_image_url")

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
label{display:block;margin-top:1rem;font-weight:600}
input,select,textarea{width:100%;padding:.4rem;box-sizing:border-box;font:inherit}
button{margin-top:1.5rem;padding:.6rem 1.4rem;font:inherit}
.error{background:#fde8e8;border:1px solid #e0a0a0;padding:.6rem}
#preview{margin-top:1rem;height:4rem;border:1px solid #ccc;display:flex;align-items:center;
justify-content:center}
"""


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body; the last value wins for repeated names."""
    if len(body) > MAX_FORM_BYTES:
        raise BadRequest("the form is too large", code="form_too_large")
    try:
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        raise BadRequest("the form is not valid UTF-8", code="invalid_form") from None


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _value(scene: Scene | None, name: str) -> str:
    value = getattr(scene, name, None) if scene is not None else None
    return escape(value or "", quote=True)


def editor_form(*, action: str, token: str, scene: Scene | None) -> str:
    """The create (``scene`` is None) or edit form, pre-filled with the scene's current values."""
    layout = scene.layout if scene is not None else "grid"
    options = "".join(
        f'<option value="{name}"{" selected" if name == layout else ""}>{name}</option>'
        for name in SCENE_LAYOUTS
    )
    body = f"""
<form method="post" action="{escape(action, quote=True)}">
<input type="hidden" name="token" value="{escape(token, quote=True)}">
<label for="name">Name</label>
<input id="name" name="name" required maxlength="200" value="{_value(scene, "name")}">
<label for="description">Description</label>
<textarea id="description" name="description" maxlength="2000">{_value(scene, "description")}</textarea>
<label for="thumbnail_url">Thumbnail URL</label>
<input id="thumbnail_url" name="thumbnail_url" type="url" value="{_value(scene, "thumbnail_url")}">
<label for="layout">Layout</label>
<select id="layout" name="layout">{options}</select>
<label for="background_color">Background colour (#rrggbb)</label>
<input id="background_color" name="background_color" pattern="#[0-9a-fA-F]{{3}}([0-9a-fA-F]{{3}})?"
 value="{_value(scene, "background_color")}">
<label for="background_image_url">Background image URL</label>
<input id="background_image_url" name="background_image_url" type="url"
 value="{_value(scene, "background_image_url")}">
<div id="preview">preview</div>
<button type="submit">{"Save scene" if scene is not None else "Publish scene"}</button>
</form>
<script>
(function () {{
  var color = document.getElementById("background_color"), layout = document.getElementById("layout");
  var preview = document.getElementById("preview");
  function paint() {{ preview.style.background = color.value || "#fff"; preview.textContent = layout.value; }}
  color.addEventListener("input", paint); layout.addEventListener("change", paint); paint();
}})();
</script>"""
    return _page("Edit scene" if scene is not None else "New scene", body)


def saved_page(scene: Scene, *, created: bool, callback: str | None) -> str:
    """Confirmation; after a creation it makes XRCLOUD's documented callback call from the browser."""
    script = ""
    if created and callback:
        # Exactly the call XRCLOUD documents: POST, JSON, body {"sceneId"}. The callback URL comes
        # from the signed link, never from the form, so a visitor cannot redirect it.
        script = (
            "<script>fetch(" + json.dumps(callback) + ", {method: 'POST', headers: {'Content-Type': "
            "'application/json'}, body: JSON.stringify({sceneId: " + json.dumps(scene.id) + "})});</script>"
        )
    body = (
        f'<p>Scene <strong id="scene-name">{escape(scene.name)}</strong> was '
        f"{'created' if created else 'saved'}.</p>"
        f'<p>Scene id: <code id="scene-id">{escape(scene.id)}</code></p>' + script
    )
    return _page("Scene created" if created else "Scene saved", body)


def error_page(status: int, message: str) -> str:
    body = (
        f'<p class="error" role="alert">{escape(message)}</p>'
        '<p><a href="javascript:history.back()">Back</a></p>'
    )
    return _page(f"Error {status}", body)


def form_values(form: dict[str, str], *, creating: bool) -> dict[str, Any]:
    """Form strings to a scene payload: blank fields are left out on create and cleared on edit."""
    values: dict[str, Any] = {}
    for name in FORM_FIELDS:
        if name not in form:
            continue
        value = form[name].strip()
        if value:
            values[name] = value
        elif not creating and name not in ("name", "layout"):
            values[name] = None
    if creating and "name" not in values:
        values["name"] = ""
    return values
