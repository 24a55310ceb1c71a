"""Write the Markdown the dashboard generates as an OpenDocument text (.odt) a DPO can edit.

Only what those drafts use: `#`-headings, paragraphs, `- ` lists, `> ` notes, pipe tables
(the first row a header), `**bold**` and `` `code` `` inside a line. The document carries its
language (metadata and default style), so a word processor checks spelling in it.
"""

from __future__ import annotations

import re
from io import BytesIO

from odf import dc
from odf.opendocument import OpenDocumentText
from odf.style import (
    DefaultStyle,
    ListLevelProperties,
    ParagraphProperties,
    Style,
    TableCellProperties,
    TextProperties,
)
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import H, List, ListItem, ListLevelStyleBullet, ListStyle, P, Span

ODT_CONTENT_TYPE = "application/vnd.oasis.opendocument.text"

# The country written with each language: the chain's customers are in Belgium.
_COUNTRY = {"nl": "BE", "fr": "BE", "de": "BE", "en": "GB"}
_INLINE = re.compile(r"(\*\*[^*]+\*\*|`[^`]+`)")


class _Styles:
    def __init__(self, doc: OpenDocumentText, language: str) -> None:
        default = DefaultStyle(family="paragraph")
        default.addElement(
            TextProperties(language=language, country=_COUNTRY.get(language, "BE"), fontsize="11pt")
        )
        doc.styles.addElement(default)
        self.headings = {}
        for level, size in ((1, "18pt"), (2, "14pt"), (3, "12pt")):
            style = Style(name=f"Heading {level}", family="paragraph", defaultoutlinelevel=level)
            style.addElement(ParagraphProperties(margintop="0.4cm", marginbottom="0.2cm"))
            style.addElement(TextProperties(fontsize=size, fontweight="bold"))
            doc.styles.addElement(style)
            self.headings[level] = style
        self.body = Style(name="Text body", family="paragraph")
        self.body.addElement(ParagraphProperties(marginbottom="0.2cm"))
        doc.styles.addElement(self.body)
        self.note = Style(name="Quotations", family="paragraph")
        self.note.addElement(ParagraphProperties(marginleft="0.6cm", marginbottom="0.2cm"))
        self.note.addElement(TextProperties(fontstyle="italic"))
        doc.styles.addElement(self.note)
        self.bold = Style(name="Strong Emphasis", family="text")
        self.bold.addElement(TextProperties(fontweight="bold"))
        doc.styles.addElement(self.bold)
        self.code = Style(name="Source Text", family="text")
        self.code.addElement(TextProperties(fontfamily="monospace"))
        doc.styles.addElement(self.code)
        self.cell = Style(name="Cell", family="table-cell")
        self.cell.addElement(TableCellProperties(border="0.5pt solid #808080", padding="0.1cm"))
        doc.automaticstyles.addElement(self.cell)
        self.bullets = ListStyle(name="Bullets")
        level = ListLevelStyleBullet(level=1, bulletchar="•")
        level.addElement(ListLevelProperties(spacebefore="0.3cm", minlabelwidth="0.4cm"))
        self.bullets.addElement(level)
        doc.styles.addElement(self.bullets)


def _inline(paragraph, text: str, styles: _Styles, *, bold: bool = False) -> None:
    """Add `text` to `paragraph`, its **bold** and `code` parts as spans."""
    for part in _INLINE.split(text):
        if not part:
            continue
        if part.startswith("**") and part.endswith("**"):
            paragraph.addElement(Span(stylename=styles.bold, text=part[2:-2]))
        elif part.startswith("`") and part.endswith("`"):
            paragraph.addElement(Span(stylename=styles.code, text=part[1:-1]))
        elif bold:
            paragraph.addElement(Span(stylename=styles.bold, text=part))
        else:
            paragraph.addText(part)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _is_rule(line: str) -> bool:
    return bool(re.fullmatch(r"\|?(\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*", line.strip()))


def markdown_to_odt(markdown: str, *, language: str, title: str = "") -> bytes:
    """Return `markdown` (the subset above) as the bytes of an .odt document in `language`."""
    doc = OpenDocumentText()
    doc.meta.addElement(dc.Language(text=language))
    if title:
        doc.meta.addElement(dc.Title(text=title))
    styles = _Styles(doc, language)
    bullets = None
    table = None
    tables = 0
    for line in markdown.splitlines():
        stripped = line.strip()
        if not stripped.startswith("- "):
            bullets = None
        if not stripped.startswith("|"):
            table = None
        if not stripped:
            continue
        heading = re.match(r"(#{1,3}) (.*)", stripped)
        if heading:
            level = len(heading.group(1))
            element = H(outlinelevel=level, stylename=styles.headings[level])
            _inline(element, heading.group(2), styles)
            doc.text.addElement(element)
        elif stripped.startswith("- "):
            if bullets is None:
                bullets = List(stylename=styles.bullets)
                doc.text.addElement(bullets)
            item = ListItem()
            paragraph = P(stylename=styles.body)
            _inline(paragraph, stripped[2:], styles)
            item.addElement(paragraph)
            bullets.addElement(item)
        elif stripped.startswith("|"):
            if _is_rule(stripped):
                continue
            cells = _cells(stripped)
            header = table is None
            if header:
                tables += 1
                table = Table(name=f"Table{tables}")
                table.addElement(TableColumn(numbercolumnsrepeated=len(cells)))
                doc.text.addElement(table)
            row = TableRow()
            for cell in cells:
                element = TableCell(valuetype="string", stylename=styles.cell)
                paragraph = P()
                _inline(paragraph, cell, styles, bold=header)
                element.addElement(paragraph)
                row.addElement(element)
            table.addElement(row)
        elif stripped.startswith(">"):
            paragraph = P(stylename=styles.note)
            _inline(paragraph, stripped.lstrip(">").strip(), styles)
            doc.text.addElement(paragraph)
        else:
            paragraph = P(stylename=styles.body)
            _inline(paragraph, stripped, styles)
            doc.text.addElement(paragraph)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
