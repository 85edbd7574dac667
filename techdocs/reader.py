"""Showing a published site inside the portal: page, site navigation and table of contents, sanitised.

Built HTML is untrusted (anyone who can push Markdown wrote it). The page's article, the site navigation
and the table of contents are cut out of mkdocs-material's HTML with lxml and cleaned with nh3 (no script,
no event handlers, no ``javascript:`` URLs, no forms or frames), then shown in the portal's own layout.
Links between pages stay relative: the portal's docs URLs mirror the site's folders, so
``/catalog/{ns}/{kind}/{name}/docs/{page}/`` is a deep link a person can bookmark. Images and other files
point at the static endpoint, which serves them with a sandboxing CSP.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import astuple, dataclass
from urllib.parse import urlsplit

import nh3
from django.core.cache import cache
from django.urls import reverse
from lxml import html as lxml_html

from techdocs import storage
from techdocs.models import DocSite
from techdocs.sources import TECHDOCS_ENTITY, TECHDOCS_REF, annotations_of, has_docs

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del", "details",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var", "nav",
}  # fmt: skip
ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start", "type"},
    "details": {"open"},
    "col": {"span"},
}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto"}
PAGE_SUFFIXES = ("", ".html", ".htm")
PAGE_CACHE_SECONDS = 24 * 3600


@dataclass
class DocsPage:
    title: str
    body: str  # sanitised HTML
    nav: str  # sanitised HTML of the site navigation
    toc: str  # sanitised HTML of the page's table of contents


def tab_visible(entity) -> bool:
    return has_docs(entity.body)


def docs_entity_ref(entity) -> str:
    """Whose docs this entity shows: its own, or those named by ``backstage.io/techdocs-entity``."""
    borrowed = str(annotations_of(entity.body).get(TECHDOCS_ENTITY) or "").strip()
    if borrowed and not annotations_of(entity.body).get(TECHDOCS_REF):
        from catalog.ingestion.refs import RefError, parse_ref

        try:
            return parse_ref(borrowed, default_kind=entity.kind, default_namespace=entity.namespace).key
        except RefError:
            return entity.ref
    return entity.ref


def docs_tab(request, entity) -> dict:
    ref = docs_entity_ref(entity)
    site = DocSite.objects.filter(entity_ref=ref).first()
    page_path = (request.resolver_match.kwargs.get("page") or "") if request.resolver_match else ""
    context = {"site": site, "docs_ref": ref, "borrowed": ref != entity.ref, "page": None, "missing": False}
    if site is None or not site.published:
        return context
    page = render_page(site, page_path, entity)
    context["page"] = page
    context["missing"] = page is None
    return context


def page_file(page_path: str) -> str | None:
    """The site file behind a docs URL path: ``''`` → ``index.html``, ``guide/`` → ``guide/index.html``."""
    clean = storage.clean_path(page_path)
    if clean is None:
        return None
    if page_path == "" or page_path.endswith("/"):
        return posixpath.join(clean, "index.html") if clean not in ("", ".") else "index.html"
    return clean


def render_page(site: DocSite, page_path: str, entity) -> DocsPage | None:
    """The sanitised page, remembered per published build (a new build has a new key)."""
    name = page_file(page_path)
    if name is None or not name.endswith((".html", ".htm")):
        return None
    stamp = site.published_at.timestamp() if site.published_at else 0
    key = "techdocs:page:" + hashlib.sha256(f"{site.prefix}\0{stamp}\0{name}".encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return DocsPage(*cached) if cached else None
    page = _render(site, name, entity)
    cache.set(key, astuple(page) if page else (), PAGE_CACHE_SECONDS)
    return page


def _render(site: DocSite, name: str, entity) -> DocsPage | None:
    data = storage.read_file(site.prefix, name)
    if data is None:
        return None
    document = lxml_html.fromstring(data)
    article = _first(document, "//article[contains(@class, 'md-content__inner')]")
    if article is None:
        article = _first(document, "//body")
    static_base = reverse("techdocs-static-index", args=[site.namespace, site.kind, site.name])
    page_dir = posixpath.dirname(name)
    body = _clean(article, page_dir, static_base, inner=True)
    nav = _clean(_first(document, "//nav[contains(@class, 'md-nav--primary')]"), page_dir, static_base)
    toc = _clean(_first(document, "//nav[contains(@class, 'md-nav--secondary')]"), page_dir, static_base)
    title = (document.findtext(".//title") or site.site_name or entity.name).strip()
    return DocsPage(title=title, body=body, nav=nav, toc=toc)


def _first(document, xpath: str):
    found = document.xpath(xpath)
    return found[0] if found else None


# Material's navigation widgets mean nothing without its JavaScript: toggles, icons, the logo, a page
# label repeated before its link; in the site navigation also the current page's table of contents and
# each section's title repeated inside it.
_WIDGETS = (".//input | .//*[contains(@class, 'md-nav__icon')] | .//*[contains(@class, 'md-logo')]"
            " | .//li/label[contains(@class, 'md-nav__link')][following-sibling::a]")  # fmt: skip
_PRIMARY_ONLY = ".//nav[contains(@class, 'md-nav--secondary')] | .//nav//label[contains(@class, 'md-nav__title')]"


def _clean(element, page_dir: str, static_base: str, *, inner: bool = False) -> str:
    if element is None:
        return ""
    primary = "md-nav--primary" in (element.get("class") or "")
    for node in element.xpath(_WIDGETS + (f" | {_PRIMARY_ONLY}" if primary else "")):
        node.drop_tree()
    for node in element.xpath(".//label"):
        node.drop_tag()
    if inner:
        raw = (element.text or "") + "".join(lxml_html.tostring(child, encoding="unicode") for child in element)
    else:
        raw = lxml_html.tostring(element, encoding="unicode")

    def rewrite(tag: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src"):
            return _rewrite_url(value, page_dir, static_base, is_src=attribute == "src")
        return value

    return nh3.clean(raw, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, attribute_filter=rewrite,
                     link_rel="noopener noreferrer", strip_comments=True)  # fmt: skip


def _rewrite_url(value: str, page_dir: str, static_base: str, *, is_src: bool) -> str | None:
    """Pages stay relative (portal URLs mirror the site); files go to the static endpoint."""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return value if parts.scheme in URL_SCHEMES else None
    if not parts.path:
        return value  # "#anchor"
    if parts.path.startswith("/"):
        return None  # a path on the portal's own origin: never from docs
    target = posixpath.normpath(posixpath.join(page_dir, parts.path))
    if target.startswith(".."):
        return None
    suffix = posixpath.splitext(parts.path.rstrip("/"))[1].lower()
    if not is_src and suffix in PAGE_SUFFIXES:
        if parts.path.endswith("index.html"):
            trimmed = parts.path[: -len("index.html")] or "./"
            return trimmed + (f"#{parts.fragment}" if parts.fragment else "")
        return value
    return static_base + target + (f"#{parts.fragment}" if parts.fragment else "")
