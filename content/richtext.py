"""Sanitising the rich text of news items: an allow-list, nothing that can run."""

from __future__ import annotations

import html as htmllib
import re

import nh3

#: Tags the small editor produces; everything else is dropped (its text kept).
ALLOWED_TAGS = frozenset({
    "p", "br", "strong", "b", "em", "i", "u", "s", "ul", "ol", "li", "h2", "h3",
    "blockquote", "a",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: Elements removed together with their content, not just unwrapped.
DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "svg", "math",
                               "template", "noscript", "textarea", "select", "title"})
MAX_LENGTH = 100_000
_BLOCK_TAG = re.compile(r"<(/?(?:p|br|li|h2|h3|blockquote|ul|ol|div)\b)", re.IGNORECASE)


def sanitize_html(html: str) -> str:
    """Return html with only the allowed tags, attributes and URL schemes left."""
    return nh3.clean(
        html[:MAX_LENGTH],
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def plain_text(html: str) -> str:
    """The text of html without any tags or entities (for lists, tickers and search)."""
    spaced = _BLOCK_TAG.sub(r" <\1", html)  # "</p><p>" must not glue two words together
    text = nh3.clean(spaced, tags=set(), clean_content_tags=set(DROP_WITH_CONTENT))
    return " ".join(htmllib.unescape(text).split())
