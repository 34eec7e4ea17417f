"""Caption and title faces, chosen by script, shipped as wheels (all SIL OFL):

- Latin (Vietnamese included): Anton, a static bold display face (`fontpkg-anton`);
- Cyrillic and Greek (Anton has neither): Noto Sans, pinned condensed and extra-bold to sit beside
  Anton (`fontpkg-noto-sans`);
- Chinese (simplified / traditional), Japanese, Korean: Noto Sans SC / TC / JP / KR (`justmytype-intl-cjk`);
- Arabic (Arabic, Persian, Urdu...) and Hebrew: Noto Sans Arabic / Hebrew (`justmytype-intl-rtl`);
- Devanagari (Hindi, Marathi, Nepali), Bengali (and Assamese), Tamil, Telugu: Noto Sans of each
  (`justmytype-intl-south-asia`); Thai, Lao, Khmer, Myanmar (`justmytype-intl-sea`); Ethiopic
  (Amharic, Tigrinya; `justmytype-intl-africa`). Text in a script none of these draw (Georgian,
  Armenian, Gujarati, Kannada, Malayalam...) is refused before a video starts (scripts.py).

The Noto faces are variable fonts whose default instance is Thin (CJK) or Regular, and libass renders
a variable font's default instance only. So for each video we cut each needed face down to the
characters its captions (and title) use and pin its weight axis to a heavy weight (fontTools subset +
instancer: ~0.4 s for a CJK face, a few kB out), renamed to a family of our own ("Faceless SC"...).
libass finds them by that name in `fontsdir`; Pillow measures and draws with the same files.

libass sizes a font like VSFilter does: an ASS `Fontsize` is usWinAscent + usWinDescent (OS/2), not
the em, so `em_per_ass_size` converts between the two with the ratio read from each font file.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from PIL import ImageFont

from faceless.errors import ConfigurationError, RenderError
from faceless.media.scripts import RTL_SCRIPTS, Script, char_script, language_script, text_script

CAPTION_FONT_NAME = "Anton"


@dataclass(frozen=True)
class _Source:
    package: str
    pattern: str  # glob under the package's folder
    weight: float | None  # the wght axis value pinned in the instance (None: a static face)
    rtl: bool = False
    width: float | None = None  # the wdth axis value pinned (None: the face's default)


_SOURCES: dict[Script, _Source] = {
    Script.cyrillic: _Source("fontpkg_noto_sans", "files/NotoSans[[]wdth*.ttf", 800, width=75),
    Script.sc: _Source("justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC*.ttf", 800),
    Script.tc: _Source("justmytype_intl_cjk", "fonts/ofl/notosanstc/NotoSansTC*.ttf", 800),
    Script.jp: _Source("justmytype_intl_cjk", "fonts/ofl/notosansjp/NotoSansJP*.ttf", 800),
    Script.kr: _Source("justmytype_intl_cjk", "fonts/ofl/notosanskr/NotoSansKR*.ttf", 800),
    Script.arabic: _Source("justmytype_intl_rtl", "fonts/ofl/notosansarabic/NotoSansArabic*.ttf", 800, rtl=True),
    Script.hebrew: _Source("justmytype_intl_rtl", "fonts/ofl/notosanshebrew/NotoSansHebrew*.ttf", 800, rtl=True),
    Script.greek: _Source("fontpkg_noto_sans", "files/NotoSans[[]wdth*.ttf", 800, width=75),
    **{
        script: _Source(package, f"fonts/ofl/notosans{script.value}/NotoSans{script.value.title()}*.ttf", 800)
        for package, scripts in (
            ("justmytype_intl_south_asia", (Script.devanagari, Script.bengali, Script.tamil, Script.telugu)),
            ("justmytype_intl_sea", (Script.thai, Script.lao, Script.khmer, Script.myanmar)),
            ("justmytype_intl_africa", (Script.ethiopic,)),
        )
        for script in scripts
    },
}
# characters every subset keeps, whatever the text: digits, basic punctuation, space
_ALWAYS = " 0123456789.,!?:;'\"()-%…、。，！？：；「」『』《》（）—·،؛؟"


# ------------------------------------------------------------------ where the faces are


@lru_cache(maxsize=1)
def anton_path() -> Path:
    try:
        import fontpkg_anton
    except ImportError as exc:  # pragma: no cover - a packaging error
        raise ConfigurationError("fontpkg-anton is not installed: no caption font") from exc
    path = Path(fontpkg_anton.ROOT) / "files" / "Anton-Regular.ttf"
    if not path.is_file():
        raise ConfigurationError(f"caption font missing: {path}")
    return path


@lru_cache(maxsize=16)
def source_path(script: Script) -> Path:
    """The shipped font file for a script (the full variable face)."""
    if script is Script.latin:
        return anton_path()
    source = _SOURCES[script]
    try:
        root = Path(str(resources.files(source.package)))
    except ModuleNotFoundError as exc:
        wheel = source.package.replace("_", "-")
        raise ConfigurationError(f"{wheel} is not installed: no font for {script.value} captions") from exc
    found = sorted(root.glob(source.pattern))
    if not found:
        raise ConfigurationError(f"font for {script.value} captions missing under {root}")
    return found[0]


# ------------------------------------------------------------------ metrics


def _sfnt_tables(data: bytes) -> dict[str, int]:
    count = struct.unpack(">H", data[4:6])[0]
    tables = {}
    for i in range(count):
        tag, _checksum, offset, _length = struct.unpack(">4sIII", data[12 + 16 * i : 28 + 16 * i])
        tables[tag.decode("latin-1")] = offset
    return tables


@lru_cache(maxsize=64)
def em_per_ass_size(font: Path | None = None) -> float:
    """Pixels of em per unit of ASS Fontsize for this font: unitsPerEm / (winAscent + winDescent)."""
    data = (font or anton_path()).read_bytes()
    tables = _sfnt_tables(data)
    units_per_em = struct.unpack(">H", data[tables["head"] + 18 : tables["head"] + 20])[0]
    win_ascent, win_descent = struct.unpack(">HH", data[tables["OS/2"] + 74 : tables["OS/2"] + 78])
    return units_per_em / (win_ascent + win_descent)


@lru_cache(maxsize=64)
def pil_font(em_pixels: int, font: Path | None = None) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font or anton_path()), max(1, em_pixels), layout_engine=ImageFont.Layout.RAQM)


def text_width(text: str, em_pixels: int, font: Path | None = None) -> int:
    """Advance width of one line of text (shaped, so Arabic joins) at this em size, in pixels."""
    return int(round(pil_font(em_pixels, font).getlength(text)))


# ------------------------------------------------------------------ per-video faces


@dataclass(frozen=True)
class Face:
    script: Script
    family: str  # the name libass looks up (ASS Fontname / \fn)
    path: Path  # the file in the fonts folder (Pillow measures and draws with it)

    @property
    def em_per_ass_size(self) -> float:
        return em_per_ass_size(self.path)

    @property
    def rtl(self) -> bool:
        return self.script in RTL_SCRIPTS


@dataclass(frozen=True)
class FontSet:
    folder: Path  # libass `fontsdir`
    faces: dict[Script, Face]
    language: str

    @property
    def primary(self) -> Face:
        return self.face(language_script(self.language))

    def face(self, script: Script) -> Face:
        return self.faces.get(script) or self.faces[Script.latin]

    def face_for(self, text: str) -> Face:
        return self.face(text_script(text, self.language))


_INSTANCE_LOCK = threading.Lock()  # fontTools is pure Python: no gain from running two at once


def _subset_instance(script: Script, chars: str, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    source = _SOURCES[script]
    family = f"Faceless {script.value.upper()}"
    with _INSTANCE_LOCK:
        font = TTFont(str(source_path(script)))
        options = subset.Options()
        options.layout_features = ["*"]  # Arabic joining, ligatures, CJK vertical forms...
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.hinting = False  # libass renders unhinted
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars + _ALWAYS)
        subsetter.subset(font)
        if "fvar" in font and source.weight is not None:
            axes = {axis.axisTag: axis for axis in font["fvar"].axes}
            pins = {"wght": max(axes["wght"].minValue, min(axes["wght"].maxValue, source.weight))}
            if "wdth" in axes:
                wanted = source.width if source.width is not None else axes["wdth"].defaultValue
                pins["wdth"] = max(axes["wdth"].minValue, min(axes["wdth"].maxValue, wanted))
            font = instancer.instantiateVariableFont(font, pins, updateFontNames=False)
        names = font["name"]
        for record in list(names.names):
            if record.nameID in (16, 17, 21, 22, 25):
                names.removeNames(nameID=record.nameID)
        ps_name = family.replace(" ", "-")
        for name_id, value in ((1, family), (2, "Regular"), (3, ps_name), (4, family), (6, ps_name)):
            names.setName(value, name_id, 3, 1, 0x409)
            names.setName(value, name_id, 1, 0, 0)
        font["OS/2"].fsSelection = (font["OS/2"].fsSelection & ~0b1100001) | 0b1000000  # REGULAR, not bold/italic
        font["head"].macStyle = 0
        font.save(str(target))


def prepare_fonts(folder: Path, texts: list[str], language: str) -> FontSet:
    """Write into `folder` the faces these texts need (Anton always), subset and pinned as described
    above; the same texts always give the same files. Returns the faces by script."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(anton_path(), folder / anton_path().name)
    faces = {Script.latin: Face(Script.latin, CAPTION_FONT_NAME, folder / anton_path().name)}
    needed: dict[Script, set[str]] = {}
    default = language_script(language)
    if default is not Script.latin:
        needed[default] = set()
    for text in texts:
        for char in text:
            if char.isspace():
                continue
            script = text_script(char, language) if char_script(char) is not None else default
            if script is not Script.latin:
                # and its decomposition: HarfBuzz draws Thai SARA AM as NIKHAHIT + SARA AA, and
                # finds each in the font's character map
                needed.setdefault(script, set()).update(char + unicodedata.normalize("NFKD", char))
    for script, chars in sorted(needed.items()):
        charset = "".join(sorted(chars))
        digest = hashlib.sha256(charset.encode()).hexdigest()[:10]
        target = folder / f"Faceless-{script.value}-{digest}.ttf"
        try:
            if not target.is_file():
                for stale in folder.glob(f"Faceless-{script.value}-*.ttf"):
                    stale.unlink()  # one file per family, or libass may pick an older subset
                _subset_instance(script, charset, target)
        except ConfigurationError:
            raise
        except Exception as exc:  # fontTools raises many kinds; any of them means no usable face
            raise RenderError(f"preparing the {script.value} caption font failed: {exc}") from exc
        faces[script] = Face(script, f"Faceless {script.value.upper()}", target)
    return FontSet(folder=folder, faces=faces, language=language)


def install_fonts(folder: Path) -> Path:
    """Copy the Latin caption face into `folder` (libass's `fontsdir`)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(anton_path(), folder / anton_path().name)
    return folder
