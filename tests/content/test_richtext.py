"""Hostile rich text comes out inert; the editor's harmless markup survives."""

from __future__ import annotations

import pytest

from content.richtext import plain_text, sanitize_html

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<svg><script>alert(1)</script></svg>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div style="width: expression(alert(1))">x</div>',
    '<iframe src="https://evil.example"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<p onclick="alert(1)" onmouseover="alert(1)">hover</p>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<form action="https://evil.example"><input name=x></form>',
    '<p>unclosed <b>bold <i>italic <script>alert(1)',
    '<<script>script>alert(1)<</script>/script>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<style>body{display:none}</style>',
    '<details open ontoggle="alert(1)">x</details>',
    '<video><source onerror="alert(1)"></video>',
]

DANGEROUS = ("<script", "javascript:", "onerror", "onload", "onclick", "onmouseover",
             "ontoggle", "<svg", "<iframe", "<object", "<embed", "style=", "expression(",
             "<form", "<meta", "<base", "<style", "data:text", "<math", "<img", "<video")


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_comes_out_inert(payload: str) -> None:
    clean = sanitize_html(payload).lower()
    for bad in DANGEROUS:
        assert bad not in clean, f"{bad!r} survived in {clean!r}"


def test_editor_markup_survives() -> None:
    html = ('<h2>Концерт</h2><p>В <strong>пятницу</strong> в <em>актовом зале</em>.</p>'
            '<ul><li>5–7 классы</li></ul><p><a href="https://school.example/x">Подробнее</a></p>')
    clean = sanitize_html(html)
    assert "<h2>Концерт</h2>" in clean
    assert "<strong>пятницу</strong>" in clean
    assert "<li>5–7 классы</li>" in clean
    assert 'href="https://school.example/x"' in clean
    assert 'rel="noopener noreferrer nofollow"' in clean


def test_unclosed_tags_are_closed() -> None:
    assert sanitize_html("<p>one <b>two") == "<p>one <b>two</b></p>"


def test_plain_text() -> None:
    assert plain_text("<p>Tom &amp; Jerry</p><script>x()</script><p>go</p>") == "Tom & Jerry go"
