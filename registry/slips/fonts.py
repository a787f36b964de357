"""The TrueType fonts embedded in every slip: DejaVu Sans, which covers the Latin letters of every name the
registry takes (Ṱ, ṅ, ã, ñ, ŵ ...), installed from the npm registry by `make install` (`npm ci`).

ReportLab's built-in fonts (Helvetica and friends) cover only Latin-1, and a PDF that relied on a printer's
or viewer's own fonts would print names differently at every office, so the font travels inside the PDF.
"""
import os
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REGULAR, BOLD = "RegistrySans", "RegistrySans-Bold"
FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
# Where to look, in order: SLIP_FONT_DIR, the npm package (package.json), and Debian's fonts-dejavu-core.
SEARCH = (
    PROJECT_ROOT / "node_modules" / "dejavu-fonts-ttf" / "ttf",
    Path("/usr/share/fonts/truetype/dejavu"),
)


class FontMissing(RuntimeError):
    pass


def font_folder():
    """The first folder holding both DejaVu Sans files."""
    configured = os.environ.get("SLIP_FONT_DIR")
    folders = ((Path(configured),) if configured else ()) + SEARCH
    for folder in folders:
        if all((folder / name).is_file() for name in FILES.values()):
            return folder
    raise FontMissing("The DejaVu Sans fonts for slips are not installed: run `make install` (which runs "
                      "`npm ci`), or set SLIP_FONT_DIR to a folder holding DejaVuSans.ttf and DejaVuSans-Bold.ttf.")


@lru_cache(maxsize=None)
def register_fonts():
    """Register the fonts with ReportLab once per process; returns (regular, bold) font names."""
    folder = font_folder()
    for name, filename in FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / filename)))
    return REGULAR, BOLD
