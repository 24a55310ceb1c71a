"""Accessibility checks run inside Chromium: axe-core (WCAG 2.1 AA) and the checks axe skips.

axe-core comes from the PyPI package `axe-playwright-python` (it ships axe's own build); the
hand checks are the ones the issue found by hand: ids used twice on a page (axe 4.x no longer
reports them), ARIA and label references to ids that do not exist, form fields nobody labels.
"""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_axe = Axe()

HAND_CHECKS = r"""
() => {
  const problems = [];
  const describe = (e) => {
    const name = e.getAttribute('name') || e.id || e.className || '';
    return `<${e.tagName.toLowerCase()}${name ? ' ' + name : ''}>`;
  };
  const seen = new Map();
  for (const e of document.querySelectorAll('[id]')) {
    seen.set(e.id, (seen.get(e.id) || 0) + 1);
  }
  for (const [id, n] of seen) {
    if (n > 1) problems.push(`id "${id}" is used ${n} times`);
  }
  for (const attr of ['aria-describedby', 'aria-labelledby', 'aria-controls', 'aria-owns',
                      'aria-errormessage']) {
    for (const e of document.querySelectorAll(`[${attr}]`)) {
      for (const ref of e.getAttribute(attr).split(/\s+/).filter(Boolean)) {
        if (!document.getElementById(ref)) {
          problems.push(`${attr}="${ref}" on ${describe(e)} names no element`);
        }
      }
    }
  }
  for (const label of document.querySelectorAll('label[for]')) {
    const target = document.getElementById(label.htmlFor);
    if (!target) {
      problems.push(`label for="${label.htmlFor}" names no element`);
    } else if (!target.matches('input, select, textarea, button, meter, output, progress')) {
      problems.push(`label for="${label.htmlFor}" names a <${target.tagName.toLowerCase()}>`);
    }
  }
  const fields = 'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea';
  for (const e of document.querySelectorAll(fields)) {
    const named = e.labels.length || e.getAttribute('aria-label')
      || e.getAttribute('aria-labelledby');
    if (!named) problems.push(`field ${describe(e)} has no label`);
  }
  return problems;
}
"""


def hand_check(page) -> list[str]:
    """Return what the page gets wrong that axe does not report (empty when all is well)."""
    return page.evaluate(HAND_CHECKS)


def axe_violations(page) -> list[str]:
    """Return axe-core's WCAG 2.1 AA violations on the page, one line each."""
    results = _axe.run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]},
    )
    lines = []
    for violation in results.response["violations"]:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return lines


def page_problems(page) -> list[str]:
    """Return every accessibility problem found on the page: axe's and the hand checks'."""
    return [f"axe {line}" for line in axe_violations(page)] + hand_check(page)


def _channel(value: float) -> float:
    value /= 255
    return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def luminance(css_color: str) -> float:
    """Return the relative luminance (WCAG 2.1) of a computed `rgb(...)` colour."""
    r, g, b = (float(v) for v in re.findall(r"[\d.]+", css_color)[:3])
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """Return the WCAG contrast ratio of two computed colours."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def shadow_color(box_shadow: str) -> str:
    """Return the colour of a computed `box-shadow` (Chromium writes it first)."""
    found = re.search(r"rgba?\([^)]*\)", box_shadow)
    assert found, box_shadow
    return found.group(0)
