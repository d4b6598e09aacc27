"""Which pages a dialogue targets: URL patterns with `*` wildcards (pure, no ORM).

Pages. A dialogue has up to 20 include and 20 exclude URL patterns. An empty include list means
every page; an exclude always wins. Patterns read like URLs with `*` wildcards:

- `https://example.com` is the home page only; `https://example.com/pricing` is that page.
- `https://example.com/pricing/*` is the folder page and every page under it.
- `https://*.example.com` is the whole site: the bare domain, every subdomain, every page
  (a wildcard host without a path stands for the whole site, as the chat product documents).
- `*/pricing` is the /pricing page on any site; `example.com/pricing` (no scheme) matches
  http and https alike.

A `*` in the host matches within the host (never a `/`, so `*.example.com` cannot be satisfied
by another site's path); a `*` in the path matches anything, `/` included. Query strings and
fragments are ignored on both sides, scheme and host compare case-insensitively, paths
case-sensitively, default ports are dropped, and a trailing slash is no difference.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

MAX_PATTERNS: Final = 20
MAX_PATTERN_LENGTH: Final = 500
MAX_WILDCARDS: Final = 10


_SCHEMES: Final = ("http", "https")
_DEFAULT_PORTS: Final = {"http": ":80", "https": ":443"}
_SCHEME_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", re.DOTALL)
# "name:" at the start that is not "host:port" — e.g. "javascript:…", "https:/example.com".
_SCHEME_WITHOUT_SLASHES_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?!\d+(?:/|$)|//)")
_WHITESPACE_RE: Final = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class CompiledPatterns:
    """A list of URL patterns compiled into one regex; `regex` is None when the list is empty."""

    patterns: tuple[str, ...]
    regex: re.Pattern[str] | None

    @property
    def is_empty(self) -> bool:
        return self.regex is None

    def matches(self, url: str) -> bool:
        """Whether any pattern matches the page `url` (an empty list matches nothing)."""
        page = canonical_url(url)
        return (
            self.regex is not None and page is not None and self.regex.fullmatch(page) is not None
        )


def compile_patterns(patterns: Iterable[str]) -> CompiledPatterns:
    """Compile patterns once; the same patterns (in the same order) return the cached result."""
    return _compile(tuple(patterns))


@functools.lru_cache(maxsize=4096)
def _compile(patterns: tuple[str, ...]) -> CompiledPatterns:
    sources = [source for pattern in patterns if (source := _pattern_regex(pattern))]
    if not sources:
        return CompiledPatterns(patterns, None)
    return CompiledPatterns(patterns, re.compile("|".join(f"(?:{s})" for s in sources)))


def page_matches(
    include: CompiledPatterns | Iterable[str],
    exclude: CompiledPatterns | Iterable[str],
    url: str,
) -> bool:
    """Whether a dialogue with these patterns targets the page `url`.

    No include patterns means every page; an exclude pattern beats any include pattern. A URL
    that is not an http(s) URL is never targeted.
    """
    included = include if isinstance(include, CompiledPatterns) else compile_patterns(include)
    excluded = exclude if isinstance(exclude, CompiledPatterns) else compile_patterns(exclude)
    page = canonical_url(url)
    if page is None:
        return False
    if included.regex is not None and included.regex.fullmatch(page) is None:
        return False
    return excluded.regex is None or excluded.regex.fullmatch(page) is None


@functools.lru_cache(maxsize=4096)
def canonical_url(url: str) -> str | None:
    """`scheme://host[:port]/path/` as patterns see it, or None when `url` is not http(s).

    Scheme and host are lower-cased, user info, default ports, query and fragment dropped, and
    the path always ends with one `/` so that "/pricing" and "/pricing/" are the same page.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.netloc.rpartition("@")[2].lower()
    if scheme not in _SCHEMES or not host:
        return None
    host = host.removesuffix(_DEFAULT_PORTS[scheme])
    return f"{scheme}://{host}{parts.path.rstrip('/')}/"


def _pattern_regex(pattern: str) -> str | None:
    """The regex source for one pattern, matched against `canonical_url` output."""
    text = re.split(r"[?#]", pattern.strip(), maxsplit=1)[0]
    if not text:
        return None
    if found := _SCHEME_RE.fullmatch(text):
        scheme, rest = found[1].lower(), found[2]
        scheme_source = re.escape(scheme) if scheme in _SCHEMES else "https?"
    else:
        scheme, rest = "", text
        scheme_source = "https?"
    host, slash, path = rest.partition("/")
    host = host.rpartition("@")[2].lower()
    if scheme in _DEFAULT_PORTS:
        host = host.removesuffix(_DEFAULT_PORTS[scheme])
    path = slash + path
    if "*" in host and not path.strip("/"):
        path = "/*"  # a wildcard host alone stands for the whole site
    return f"{scheme_source}://{_host_source(host)}{_path_source(path)}"


def _host_source(host: str) -> str:
    if host.startswith("*.") and "*" not in host[2:]:
        # "*.example.com": the bare domain or any subdomain of it.
        return r"(?:[^/]*\.)?" + re.escape(host[2:])
    return "[^/]*".join(re.escape(piece) for piece in host.split("*"))


def _path_source(path: str) -> str:
    path = path.rstrip("/")
    source = ".*".join(re.escape(piece) for piece in path.split("*"))
    # A trailing `*` also absorbs the page's closing slash; otherwise the page must end here.
    return source if path.endswith("*") else source + "/"


def pattern_problems(pattern: str) -> list[str]:
    """What is wrong with one URL pattern, in words for the form (empty list: it is fine)."""
    text = pattern.strip()
    if not text:
        return ["Enter a URL pattern."]
    problems = []
    if len(text) > MAX_PATTERN_LENGTH:
        problems.append(f"A URL pattern can be at most {MAX_PATTERN_LENGTH} characters long.")
    if _WHITESPACE_RE.search(text):
        problems.append("A URL pattern cannot contain spaces.")
    if text.count("*") > MAX_WILDCARDS:
        problems.append(f"A URL pattern can have at most {MAX_WILDCARDS} * wildcards.")
    found = _SCHEME_RE.fullmatch(text)
    if found[1].lower() not in _SCHEMES if found else _SCHEME_WITHOUT_SLASHES_RE.match(text):
        problems.append("A URL pattern must start with http://, https:// or no scheme at all.")
    else:
        rest = found[2] if found else text
        if not re.split(r"[/?#]", rest, maxsplit=1)[0]:
            problems.append("A URL pattern needs a site, e.g. example.com or *.example.com.")
    return problems


def pattern_list_problems(patterns: Sequence[str]) -> list[str]:
    """What is wrong with a dialogue's include (or exclude) list: its size and each pattern."""
    problems = []
    if len(patterns) > MAX_PATTERNS:
        problems.append(f"A dialogue can have at most {MAX_PATTERNS} URL patterns here.")
    for pattern in patterns:
        problems.extend(f"{pattern.strip()!r}: {problem}" for problem in pattern_problems(pattern))
    return problems
