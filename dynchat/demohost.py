"""A stand-in customer website on another origin that embeds the widget (for the demo).

python -m dynchat.demohost --port 8001 --script http://localhost:8000/widget.js --site KEY
"""

from __future__ import annotations

import argparse
import html
import urllib.parse
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGES = {
    "/": (
        "Acme Cloud",
        "Cloud infrastructure for growing teams. Chat with us at the bottom right.",
    ),
    "/pricing": ("Acme Cloud pricing", "Starter, Growth and Enterprise plans."),
}

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <style>
    body {{ font-family: Georgia, serif; margin: 0; background: #fbfaf7; color: #222; }}
    header {{ background: #243b2f; color: #fff; padding: 1rem 2rem; }}
    header a {{ color: #fff; margin-right: 1rem; }}
    main {{ padding: 2rem; max-width: 50rem; }}
    button {{ all: unset; }} /* a hostile style that must not reach the widget */
  </style>
</head>
<body>
  <header>
    <strong>Acme Cloud</strong> &nbsp; <a href="/">Home</a><a href="/pricing">Pricing</a>
  </header>
  <main>
    <h1>{title}</h1>
    <p>{text}</p>
    <p><small>This page stands in for your website: it is served from another origin than
    Dynchat and includes the widget with the snippet from the Configuration page.</small></p>
  </main>
  {snippet}
</body>
</html>
"""


def make_handler(
    script: str, site: str, quiet: bool = False, documents: Mapping[str, str] | None = None
) -> type[BaseHTTPRequestHandler]:
    """Pages that embed ``script`` for ``site``; ``?site=KEY`` embeds another site's key, and a
    page with neither embeds nothing.

    ``documents`` adds whole HTML documents by path, each with ``{snippet}`` where the script tag
    goes (read at each request, so the caller may add some later).
    """
    extra: Mapping[str, str] = {} if documents is None else documents

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            key = urllib.parse.parse_qs(url.query).get("site", [site])[0]
            snippet = snippet_for(script, key) if key else ""  # no key: a page without chat
            document, page = extra.get(url.path), PAGES.get(url.path)
            if document is not None:
                body = document.replace("{snippet}", snippet)
            elif page is not None:
                title, text = page
                body = TEMPLATE.format(
                    title=html.escape(title), text=html.escape(text), snippet=snippet
                )
            else:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            if not quiet:
                print(f"{self.address_string()} {format % args}", flush=True)

    return Handler


def snippet_for(script: str, site: str) -> str:
    return f'<script async src="{html.escape(script)}" data-site="{html.escape(site)}"></script>'


def serve(
    port: int,
    script: str,
    site: str,
    host: str = "127.0.0.1",
    quiet: bool = False,
    documents: Mapping[str, str] | None = None,
) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), make_handler(script, site, quiet, documents))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--script", required=True, help="URL of Dynchat's widget.js")
    parser.add_argument("--site", required=True, help="the site key")
    options = parser.parse_args()
    server = serve(options.port, options.script, options.site)
    print(f"demo host page on http://127.0.0.1:{options.port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
