"""Every relative link of README.md, CONTRIBUTING.md and docs/**/*.md resolves: to an existing
file, and for `#anchor` links to a heading of that file (GitHub's anchor rule)."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def _prose(text):
    """The text outside fenced code blocks and code spans, where links are links."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def anchors(text):
    """GitHub's heading anchors: lower case, punctuation but '-' and '_' dropped, spaces to '-',
    a repeated anchor numbered -1, -2, ..."""
    seen, result = {}, set()
    for heading in _HEADING.findall(_FENCE.sub("", text)):
        heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        result.add(slug if n == 0 else f"{slug}-{n}")
    return result


def links(path):
    """The relative link targets of `path`, as (target, file, anchor)."""
    found = []
    for target in _LINK.findall(_prose(path.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        file = (path.parent / file_part).resolve() if file_part else path
        found.append((target, file, anchor))
    return found


def test_the_slug_rule():
    assert anchors("# A: `python train/main.py --model x`\n## Options (keyword-only)\n") == {
        "a-python-trainmainpy---model-x",
        "options-keyword-only",
    }
    assert anchors("## Weights\n## Weights\n") == {"weights", "weights-1"}
    assert anchors("```\n# not a heading\n```\n") == set()


def test_the_link_finder_skips_code_and_absolute_links(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "[a](b.md#c) ![img](i.png) `[no](x.md)` [web](https://example.com)\n"
        "```\n[no](y.md)\n```\n[self](#here)\n"
    )
    assert [(t, a) for t, _, a in links(page)] == [
        ("b.md#c", "c"),
        ("i.png", ""),
        ("#here", "here"),
    ]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    broken = []
    for target, file, anchor in links(path):
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif anchor and (file.suffix != ".md" or anchor not in anchors(file.read_text("utf-8"))):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    assert not broken, "\n".join(broken)


def test_the_docs_link_the_pages_the_readme_promises():
    readme = {file for _, file, _ in links(ROOT / "README.md")}
    for page in sorted((ROOT / "docs").rglob("*.md")):
        assert page in readme, f"{page.relative_to(ROOT)} is not linked from the README"
