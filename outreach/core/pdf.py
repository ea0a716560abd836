"""HTML to PDF for letters and case packs: one Jinja template gives both the page and the PDF.

xhtml2pdf (pure pip, over ReportLab) renders the same HTML the browser prints. PDF's built-in
fonts cover only Western European letters, so a Unicode TrueType font is embedded when one is
found (names such as Łukasz, Ștefan or Dāvids must print): ``OUTREACH_PDF_FONT`` (a .ttf path;
a ``-Bold`` sibling is used for bold when present), else DejaVu Sans from Debian's
``fonts-dejavu-core``, else the copy matplotlib ships. Without any, Helvetica is used.
"""
from __future__ import annotations

import importlib.util
import io
import logging
import os
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)
# xhtml2pdf logs fragments of the document it renders (pupils' names): never let them reach the log.
logging.getLogger("xhtml2pdf").setLevel(logging.CRITICAL + 1)

_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)


class PdfError(RuntimeError):
    """The renderer could not produce a PDF (a bug in a template, not user input)."""


@lru_cache(maxsize=1)
def unicode_font() -> tuple[str, str] | None:
    """(regular, bold) TrueType paths of the font to embed, or None."""
    candidates = [os.environ.get("OUTREACH_PDF_FONT") or "", *_CANDIDATES]
    spec = importlib.util.find_spec("matplotlib")
    if spec and spec.origin:
        candidates.append(str(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"))
    for regular in candidates:
        if regular and Path(regular).is_file():
            bold = regular.replace(".ttf", "-Bold.ttf")
            return regular, bold if Path(bold).is_file() else regular
    log.warning("no Unicode TrueType font found for PDFs: set OUTREACH_PDF_FONT or install fonts-dejavu-core")
    return None


def _font_css() -> str:
    font = unicode_font()
    if font is None:
        return ""
    regular, bold = font
    return ("<style>@font-face { font-family: OutreachSans; src: url('%s'); }"
            "@font-face { font-family: OutreachSans; src: url('%s'); font-weight: bold; }"
            "body, p, td, th, li, h1, h2, h3, h4, div, span { font-family: OutreachSans; }</style>" % (regular, bold))


def html_to_pdf(html: str) -> bytes:
    """Render ``html`` (a whole document) as PDF bytes. Remote resources are never fetched."""
    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    css = _font_css()
    if css:
        html = html.replace("</head>", css + "</head>", 1) if "</head>" in html else css + html
    font = unicode_font()
    roots = [Path(p).parent for p in font] if font else [Path(__file__).resolve().parent.parent / "static"]
    # Local reads confined to the font's folder; nothing is ever fetched over the network.
    policy = ResourceAccessPolicy(allow_remote=False, base_dir=roots[0], extra_roots=tuple(roots[1:]))
    out = io.BytesIO()
    status = pisa.CreatePDF(src=html, dest=out, encoding="utf-8", resource_policy=policy)
    if status.err:
        raise PdfError(f"PDF rendering failed with {status.err} error(s)")
    return out.getvalue()
