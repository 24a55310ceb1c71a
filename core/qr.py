"""QR codes as the pages show them: the member card, and the link to the card in the phone."""

from __future__ import annotations

import segno


def qr_svg(data: str) -> str:
    """Return `data` as an inline SVG QR code (medium error correction, never a micro code)."""
    return segno.make(data, error="m", micro=False).svg_inline(
        border=2, dark="#1d2430", omitsize=True
    )
