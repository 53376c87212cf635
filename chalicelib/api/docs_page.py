"""The human-readable API reference (``GET /v1/docs``), rendered from the OpenAPI document.

Why its own page and not a Swagger UI: it must work offline, behind strict content-security policies
and on a phone, so it is one self-contained HTML file — inline CSS, no JavaScript, no CDN. Because it
is rendered from the same document the API serves, it cannot say anything the document does not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_REF_PREFIX = "#/components/schemas/"
_CONSTRAINTS = (
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("minimum", "≥ {}"),
    ("maximum", "≤ {}"),
    ("pattern", "matches {}"),
)
_STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;margin:0 auto;
max-width:52rem;padding:0 1rem 4rem}
h1{font-size:1.7rem;margin:1.5rem 0 .5rem}h2{font-size:1.4rem;border-bottom:2px solid #d0d7de;
padding-bottom:.3rem;margin-top:2.5rem}h3{font-size:1.1rem;margin:0 0 .4rem;word-break:break-word}
h4{font-size:1rem;margin:1rem 0 .3rem}
article{border:1px solid #d0d7de;border-radius:8px;padding:.8rem 1rem;margin:1rem 0}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
code{background:#f3f4f6;border-radius:4px;padding:0 .2em;word-break:break-word}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.6rem;overflow-x:auto}
pre code{background:none;padding:0}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{text-align:left;vertical-align:top;border-bottom:1px solid #e5e7eb;padding:.35rem .5rem}
.method{display:inline-block;min-width:3.6rem;text-align:center;border-radius:4px;color:#fff;
font-size:.8rem;padding:.1rem .3rem;margin-right:.4rem;vertical-align:middle}
.get{background:#0969da}.post{background:#1a7f37}.put{background:#9a6700}.patch{background:#8250df}
.delete{background:#cf222e}.auth{color:#57606a;font-size:.95rem}nav ul{padding-left:1.2rem}
nav a{overflow-wrap:anywhere}td{overflow-wrap:break-word}
@media (max-width:40rem){table,tbody,tr,td{display:block}thead{display:none}
tr{border-bottom:1px solid #d0d7de;padding:.4rem 0}td{border:none;padding:.1rem 0}
td::before{content:attr(data-label) ": ";color:#57606a;font-size:.85rem}td:empty{display:none}}
"""


def render(document: Mapping[str, Any]) -> str:
    """The whole page for ``document`` (an OpenAPI 3.1 document as a dict)."""
    info = document["info"]
    schemas: Mapping[str, Any] = document.get("components", {}).get("schemas", {})
    by_tag: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {}
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            by_tag.setdefault(op["tags"][0], []).append((method, path, op))
    tags = {t["name"]: t.get("description", "") for t in document.get("tags", [])}
    order = [t for t in tags if t in by_tag] + sorted(t for t in by_tag if t not in tags)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(info['title'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(info['title'])} <small>{escape(info['version'])}</small></h1>",
        _markdown(info.get("description", "")),
        "<p>The machine-readable document: <a href='openapi.json'><code>/v1/openapi.json</code></a>.</p>",
        _contents(order, by_tag),
    ]
    for tag in order:
        parts.append(f"<section id='tag-{escape(tag)}'><h2>{escape(tag)}</h2>")
        if tags.get(tag):
            parts.append(f"<p>{_inline(tags[tag])}</p>")
        parts.extend(_operation(method, path, op, schemas) for method, path, op in by_tag[tag])
        parts.append("</section>")
    parts.append(_schemas(schemas))
    parts.append("</body></html>\n")
    return "".join(parts)


def _contents(order: list[str], by_tag: Mapping[str, list[tuple[str, str, Mapping[str, Any]]]]) -> str:
    items = []
    for tag in order:
        links = "".join(
            f"<li><a href='#op-{escape(op['operationId'])}'>{method.upper()} {escape(path)}</a></li>"
            for method, path, op in by_tag[tag]
        )
        items.append(f"<li><a href='#tag-{escape(tag)}'>{escape(tag)}</a><ul>{links}</ul></li>")
    return f"<nav><h2>Contents</h2><ul>{''.join(items)}<li><a href='#schemas'>Schemas</a></li></ul></nav>"


def _operation(method: str, path: str, op: Mapping[str, Any], schemas: Mapping[str, Any]) -> str:
    scope = op.get("x-coverwatch-scope")
    who = f"API key with scope <code>{escape(scope)}</code>" if scope else "no API key"
    parts = [
        f"<article id='op-{escape(op['operationId'])}'>",
        f"<h3><span class='method {method}'>{method.upper()}</span><code>{escape(path)}</code></h3>",
        f"<p><strong>{escape(op['summary'])}</strong></p><p class='auth'>Needs: {who}</p>",
        _markdown(op.get("description", "")),
    ]
    if op.get("parameters"):
        rows = [
            (
                f"<code>{escape(p['name'])}</code>",
                escape(p["in"]),
                "yes" if p.get("required") else "no",
                _type(p.get("schema", {})),
                _inline(p.get("description", "")) + _notes(p.get("schema", {})),
            )
            for p in op["parameters"]
        ]
        parts.append("<h4>Parameters</h4>" + _table(("name", "in", "required", "type", "notes"), rows))
    if op.get("requestBody"):
        parts.append(_request(op["requestBody"], schemas))
    answers = [
        (f"<strong>{escape(status)}</strong>", *_answer(answer)) for status, answer in op["responses"].items()
    ]
    parts.append("<h4>Responses</h4>" + _table(("status", "body", "meaning"), answers))
    parts.append("</article>")
    return "".join(parts)


def _request(body: Mapping[str, Any], schemas: Mapping[str, Any]) -> str:
    content: Mapping[str, Any] = body["content"]
    kinds = ", ".join(f"<code>{escape(media)}</code>" for media in content)
    parts = [f"<h4>Request body</h4><p>{kinds}. {_inline(body.get('description', ''))}</p>"]
    for entry in content.values():
        ref = entry.get("schema", {}).get("$ref", "")
        if ref.startswith(_REF_PREFIX):
            parts.append(_fields(schemas[ref.removeprefix(_REF_PREFIX)]))
            break
    for media, entry in content.items():
        if "example" in entry:
            example = entry["example"]
            text = example if isinstance(example, str) else json.dumps(example, indent=2, ensure_ascii=False)
            parts.append(
                f"<p>Example (<code>{escape(media)}</code>):</p><pre><code>{escape(text)}</code></pre>"
            )
            break
    return "".join(parts)


def _answer(answer: Mapping[str, Any]) -> tuple[str, str]:
    content: Mapping[str, Any] = answer.get("content", {})
    if not content:
        return "–", _inline(answer["description"])
    shapes = []
    for media, entry in content.items():
        shapes.append(f"<code>{escape(media)}</code> {_type(entry.get('schema', {}))}")
    return "<br>".join(shapes), _inline(answer["description"])


def _schemas(schemas: Mapping[str, Any]) -> str:
    parts = ["<section id='schemas'><h2>Schemas</h2>"]
    for name, schema in schemas.items():
        parts.append(f"<article id='schema-{escape(name)}'><h3>{escape(name)}</h3>")
        if schema.get("description"):
            parts.append(_markdown(schema["description"]))
        if "enum" in schema:
            parts.append("<p>One of: " + ", ".join(f"<code>{escape(str(v))}</code>" for v in schema["enum"]))
        elif "properties" in schema:
            parts.append(_fields(schema))
        else:
            parts.append(f"<p>{_type(schema)}</p>")
        parts.append("</article>")
    parts.append("</section>")
    return "".join(parts)


def _fields(schema: Mapping[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = [
        (
            f"<code>{escape(name)}</code>",
            _type(prop),
            "yes" if name in required else "no",
            _inline(prop.get("description", "")) + _notes(prop),
        )
        for name, prop in schema.get("properties", {}).items()
    ]
    if not rows:
        return f"<p>{_type(schema)}</p>"
    return _table(("field", "type", "required", "notes"), rows)


def _type(schema: Mapping[str, Any]) -> str:
    """A short, linked description of a schema's type: ``date``, ``list of Trip``, ``string or null``."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
        name = escape(ref.removeprefix(_REF_PREFIX))
        return f"<a href='#schema-{name}'>{name}</a>"
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return " or ".join(_type(branch) for branch in schema[combinator])
    if "enum" in schema:
        return " | ".join(f"<code>{escape(json.dumps(v))}</code>" for v in schema["enum"])
    if "const" in schema:
        return f"<code>{escape(json.dumps(schema['const']))}</code>"
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "string" and "format" in schema:
        return escape(str(schema["format"]))
    if isinstance(kind, str):
        return escape(kind)
    return "any JSON"


def _notes(schema: Mapping[str, Any]) -> str:
    notes = [text.format(escape(str(schema[key]))) for key, text in _CONSTRAINTS if key in schema]
    if "default" in schema:
        notes.append(f"default <code>{escape(json.dumps(schema['default']))}</code>")
    return f" <small>({'; '.join(notes)})</small>" if notes else ""


def _table(headers: tuple[str, ...], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td data-label='{h}'>{c}</td>" for h, c in zip(headers, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _inline(text: str) -> str:
    """Escaped text with Markdown's `code` and **bold** (all the docstrings and descriptions use)."""
    out = escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def _markdown(text: str) -> str:
    """Paragraphs and ``- `` lists; line breaks inside a paragraph are just wrapping."""
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines()]
        if not any(lines):
            continue
        if lines[0].startswith("- "):
            items: list[str] = []
            current: list[str] = []
            for line in lines:
                if line.startswith("- ") and current:
                    items.append(" ".join(current))
                    current = []
                current.append(line.removeprefix("- "))
            items.append(" ".join(current))
            blocks.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        else:
            blocks.append(f"<p>{_inline(' '.join(lines))}</p>")
    return "".join(blocks)
