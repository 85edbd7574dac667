"""Handing every published docs page to search, through the plugin registry's one search hook."""

from __future__ import annotations

from pathlib import Path

from django.urls import reverse
from lxml import html as lxml_html

from plugins.api import SearchDocument, index_documents

MAX_TEXT = 50_000


def page_documents(entity_ref: str, namespace: str, kind: str, name: str, site: Path) -> list[SearchDocument]:
    """One document per HTML page of a built site (its article's title, headings and text)."""
    base = reverse("catalog:entity_tab", args=[namespace, kind, name, "docs"])
    documents = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        if rel == "404.html" or rel.startswith(("search/", "assets/")):
            continue
        try:
            tree = lxml_html.fromstring(path.read_bytes())
        except (ValueError, lxml_html.etree.ParserError):
            continue
        found = tree.xpath("//article[contains(@class, 'md-content__inner')]") or tree.xpath("//body")
        if not found:
            continue
        article = found[0]
        for node in article.xpath(".//script | .//style | .//*[contains(@class, 'headerlink')]"):
            node.drop_tree()
        headings = tuple(" ".join(h.text_content().split()) for h in article.xpath(".//h1 | .//h2 | .//h3"))
        title = headings[0] if headings else (tree.findtext(".//title") or name).strip()
        page = rel[: -len("index.html")] if rel.endswith("index.html") else rel
        text = " ".join(article.text_content().split())[:MAX_TEXT]
        documents.append(SearchDocument("techdocs", entity_ref, base + page, title, text, headings))
    return documents


def index_site(entity_ref: str, namespace: str, kind: str, name: str, site: Path) -> int:
    documents = page_documents(entity_ref, namespace, kind, name, site)
    index_documents("techdocs", entity_ref, documents)
    return len(documents)
