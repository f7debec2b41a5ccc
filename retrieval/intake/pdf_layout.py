"""The layout of one PDF page: characters with boxes → words → lines → blocks, in reading order.

:func:`page_blocks` works on what any text engine gives (:class:`Char`: text, box, font size and
name, in content-stream order) and on the page's horizontal rules, so the same geometry serves
pdfplumber and the pypdfium2 fallback (:mod:`retrieval.intake.pdf_engines`). Distances are measured in
*ems* of the text concerned (its font size), never in absolute points, so a landscape circular and
a letter-size primer are read by the same rules:

- **words**: characters closer than :data:`WORD_GAP_EM` (and on the same baseline) form a word;
  a change of font size starts a new one, so a superscript footnote marker is a word of its own;
- **rows**: words whose vertical centres fall inside each other's height; a word set smaller than
  its row and raised above its baseline is a *superscript* (:attr:`Word.sup`);
- **segments**: a row is cut where a gap of at least :data:`GUTTER_EM` continues into the row
  above or below (a column gutter is a vertical band of white, not one wide space of a justified
  line), where a vertical rule runs, or at a gap of :data:`LONE_GUTTER_EM` in a row that has no
  neighbour; a short marker (``2.3.``, ``5.16``, ``•``, ``(a)``) is kept in front of the text it
  numbers;
- **blocks**: a segment continues the block just above it when the gap is under
  :data:`LINE_GAP_EM` line heights, the two overlap horizontally, share a style (size, weight)
  and no rule or box edge lies between; a bullet or numbered marker starts a new block;
- **reading order**: blocks are ordered topologically by the two rules of Breuel (2003, "High
  performance document layout analysis"): *a* before *b* when they overlap horizontally and *a*
  is above; or when *a* lies wholly left of *b* and nothing (no block, no rule) lies between them
  vertically across both. Columns are thus found per region of the page (a full-width title or
  a rule between two rows of a table closes the columns above it), with any number of columns.
"""

from __future__ import annotations

import bisect
import heapq
import re
from dataclasses import dataclass, field

#: Characters closer than this (in ems) belong to one word; a wider gap is a space.
WORD_GAP_EM = 0.12
#: Smallest gap (ems) between two words that may be a column gutter.
MIN_GAP_EM = 0.45
#: A number or bullet this far (ems) before the text of its line is a hanging marker, kept in front of that text.
GUTTER_EM = 0.9
#: Smallest gap (ems) that splits a row with no neighbour close enough to confirm a gutter.
LONE_GUTTER_EM = 2.0
#: A line continues the block above when the white between them is under this many line heights.
LINE_GAP_EM = 0.75
#: Share of the page height at the top and bottom where running headers and footers sit (read apart from the body).
EDGE_BAND = 0.1
#: More blocks than this on one page: they are read top to bottom, left to right (no ordering graph).
MAX_ORDERED_BLOCKS = 250

_MARKER = re.compile(r"^(?:[•●▪◦‣■□◆◇►▸➢✓✔–—\-*·o\uf000-\uf8ff]|\(?\d{1,3}(?:\.\d{1,3}){0,3}\.?\)?|"
                     r"\(?[a-zA-Z]\)|[a-zA-Z]\.|\(?[ivxIVX]{1,5}\)|[ivxIVX]{1,5}\.)$")
#: Typographic ligatures written as the letters they join (what a reader types when searching).
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st",
              "\ufb06": "st"}
_BULLET_CHARS = "•●▪◦‣■□◆◇►▸➢✓✔·"
_BOLD = re.compile(r"bold|black|heavy|semibold|demi|medium|\bbd\b", re.IGNORECASE)


@dataclass(slots=True)
class Char:
    """One glyph as a text engine reports it: y grows downwards from the top of the page (points)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    font: str = ""


@dataclass(slots=True)
class Word:
    """A run of characters; ``space`` is True when a space character or gap precedes it."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    font: str
    space: bool = True
    sup: bool = False

    @property
    def bold(self) -> bool:
        return bool(_BOLD.search(self.font))


@dataclass(slots=True)
class Rule:
    """A horizontal rule or the top/bottom edge of a box, at ``y`` from ``x0`` to ``x1``."""

    x0: float
    x1: float
    y: float


@dataclass(eq=False)
class Line:
    """One segment of a printed row: its words left to right, box, and dominant style."""

    words: list[Word]
    x0: float = 0.0
    x1: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    size: float = 0.0
    bold: bool = False
    font: str = ""
    marker: str | None = None  # a margin number or bullet put in front of the line

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        ws = self.words
        self.x0, self.x1 = min(w.x0 for w in ws), max(w.x1 for w in ws)
        self.top, self.bottom = min(w.top for w in ws), max(w.bottom for w in ws)
        weights: dict[tuple[float, str], int] = {}
        for w in ws:
            if not w.sup:
                key = (round(w.size, 1), w.font)
                weights[key] = weights.get(key, 0) + len(w.text)
        if not weights:
            weights = {(round(ws[0].size, 1), ws[0].font): 1}
        (self.size, self.font), _ = max(weights.items(), key=lambda kv: kv[1])
        self.bold = bool(_BOLD.search(self.font))

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, self.size * 0.8, 1.0)


@dataclass(eq=False)
class Block:
    """Consecutive lines of one column: a paragraph, heading, list entry, cell or footnote."""

    lines: list[Line] = field(default_factory=list)
    page: int = 0

    @property
    def x0(self) -> float:
        return min(ln.x0 for ln in self.lines)

    @property
    def x1(self) -> float:
        return max(ln.x1 for ln in self.lines)

    @property
    def top(self) -> float:
        return self.lines[0].top

    @property
    def bottom(self) -> float:
        return max(ln.bottom for ln in self.lines)

    @property
    def size(self) -> float:
        return self.lines[0].size


# -- words and rows --------------------------------------------------------------------------------
def words_from_chars(chars: list[Char]) -> list[Word]:
    """Characters (in stream order) joined into words; whitespace characters only mark a space."""
    words: list[Word] = []
    cur: Word | None = None
    space = True
    for ch in chars:
        if ch.text in _LIGATURES:
            ch.text = _LIGATURES[ch.text]
        if not ch.text or ch.text.isspace():
            cur, space = None, True
            continue
        if (cur is not None and abs(ch.size - cur.size) <= 0.05 * cur.size
                and -0.3 * cur.size <= ch.x0 - cur.x1 <= WORD_GAP_EM * cur.size
                and abs(ch.bottom - cur.bottom) <= 0.25 * cur.size):
            cur.text += ch.text
            cur.x1 = max(cur.x1, ch.x1)
            cur.top, cur.bottom = min(cur.top, ch.top), max(cur.bottom, ch.bottom)
            continue
        cur = Word(ch.text, ch.x0, ch.x1, ch.top, ch.bottom, ch.size, ch.font, space)
        words.append(cur)
        space = False
    return words


def _rows(words: list[Word]) -> list[list[Word]]:
    """Words grouped into printed rows (each sorted left to right), top to bottom."""
    rows: list[list[Word]] = []
    bands: list[tuple[float, float]] = []  # the band of each row's tallest word
    for w in sorted(words, key=lambda w: (w.top + w.bottom) / 2):
        c = (w.top + w.bottom) / 2
        for i in range(len(rows) - 1, max(-1, len(rows) - 4), -1):
            top, bottom = bands[i]
            if top <= c <= bottom or w.top <= (top + bottom) / 2 <= w.bottom:
                rows[i].append(w)
                if w.bottom - w.top > bottom - top:
                    bands[i] = (w.top, w.bottom)
                break
        else:
            rows.append([w])
            bands.append((w.top, w.bottom))
    out = []
    for row in rows:
        row.sort(key=lambda w: w.x0)
        _mark_superscripts(row)
        out.append(row)
    out.sort(key=lambda r: min(w.top for w in r))
    return out


def _mark_superscripts(row: list[Word]) -> None:
    sizes: dict[float, int] = {}
    for w in row:
        sizes[round(w.size, 1)] = sizes.get(round(w.size, 1), 0) + len(w.text)
    main = max(sizes, key=lambda s: sizes[s])
    base = sorted(w.bottom for w in row if round(w.size, 1) == main)
    baseline = base[len(base) // 2]
    for w in row:
        w.sup = w.size <= 0.8 * main and w.bottom <= baseline - 0.12 * main and len(w.text) <= 4


# -- segments -----------------------------------------------------------------------------------------
def _gaps(row: list[Word], em: float) -> list[tuple[float, float, int]]:
    """(x from, x to, index of the word after) of each gap in a row wider than ``em`` ems."""
    out = []
    for i in range(1, len(row)):
        a, b = row[i - 1], row[i]
        if b.x0 - a.x1 >= em * max(a.size, b.size):
            out.append((a.x1, b.x0, i))
    return out


def _run(white: list[list[tuple[float, float]]], near: list[list[int]], i: int, gx0: float, gx1: float,
         size: float) -> tuple[int, bool]:
    """The rows next to row ``i`` that are white where its gap [gx0, gx1] is (the band narrowing as it
    goes; a row is white in its gaps, before its first and after its last word): how many, row ``i``
    included, and whether the text right of the band starts where row ``i``'s does in one of them
    (a column's left edge, not a river of wide word spaces)."""
    count, aligned = 1, False
    for step in (-1, 1):
        lo, hi, j = gx0, gx1, i
        while True:
            nxt = j + step
            if nxt not in near[j]:
                break
            match = next(((h0, h1) for h0, h1 in white[nxt] if min(hi, h1) - max(lo, h0) >= 0.3 * size), None)
            if match is None:
                break
            aligned = aligned or abs(match[1] - gx1) <= 2.0
            lo, hi, j = max(lo, match[0]), min(hi, match[1]), nxt
            count += 1
    return count, aligned


def _segments(rows: list[list[Word]], vrules: list[tuple[float, float, float]]) -> list[Line]:
    """Each row cut at its gutters into lines (see the module doc).

    A gap of at least :data:`MIN_GAP_EM` is a gutter when a vertical rule runs through it, when the
    white goes on through a row next to it and the text after it starts where that row's does (a
    column's left edge), when its row stands alone and the gap is :data:`LONE_GUTTER_EM` wide, or — for a row whose
    neighbours do not cross the gap — when the text after it starts where another such gap or a
    column found on this page ends (the one line of a table cell beside a longer one)."""
    cands = [_gaps(r, MIN_GAP_EM) for r in rows]
    tops = [min(w.top for w in r) for r in rows]
    bottoms = [max(w.bottom for w in r) for r in rows]
    sizes = [max(w.size for w in r) for r in rows]
    near = [[j for j in (i - 1, i + 1) if 0 <= j < len(rows)
             and min(abs(tops[j] - bottoms[i]), abs(tops[i] - bottoms[j])) <= 1.5 * sizes[i]] for i in range(len(rows))]
    white = [[(-1e9, r[0].x0)] + [(g0, g1) for g0, g1, _ in c] + [(r[-1].x1, 1e9)] for r, c in zip(rows, cands)]
    cuts: list[list[int]] = [[] for _ in rows]
    pending: list[tuple[int, float, float, int]] = []
    starts: list[float] = []
    for i, row in enumerate(rows):
        size, mid = sizes[i], (bottoms[i] + tops[i]) / 2
        for gx0, gx1, k in cands[i]:
            ruled = any(gx0 <= x <= gx1 and y0 <= mid <= y1 for x, y0, y1 in vrules)
            run, aligned = _run(white, near, i, gx0, gx1, size) if not ruled else (0, False)
            if ruled or (run >= 2 and aligned) or (not near[i] and gx1 - gx0 >= LONE_GUTTER_EM * size):
                cuts[i].append(k)
                starts.append(gx1)
            else:
                pending.append((i, gx0, gx1, k))
    free = [(i, gx1, k) for i, gx0, gx1, k in pending  # neighbours white just left of where the text resumes
            if not any(w.x0 < gx1 - 1 and w.x1 > gx1 - 0.3 * sizes[i] for j in near[i] for w in rows[j])]
    for i, gx1, k in free:
        if any(abs(gx1 - x) <= 2.0 for x in starts) or any(j != i and abs(gx1 - x) <= 2.0 for j, x, _ in free):
            cuts[i].append(k)
    lines: list[Line] = []
    for i, row in enumerate(rows):
        prev = 0
        parts = []
        for k in sorted(cuts[i]) + [len(row)]:
            parts.append(row[prev:k])
            prev = k
        for line in _attach_markers(parts):
            line.words[0].space = True
            lines.append(line)
    return lines


def _attach_markers(parts: list[list[Word]]) -> list[Line]:
    """A short marker segment (``2.3.``, ``•``) followed by text in the same row goes in front of that
    text (:attr:`Line.marker`); so does a bullet glyph that starts a line."""
    out: list[Line] = []
    pending: str | None = None
    for i, part in enumerate(parts):
        text = " ".join(w.text for w in part)
        if pending is None and len(part) == 1 and _MARKER.match(text) and i < len(parts) - 1:
            pending = text
            continue
        if pending is None and len(part) > 1 and (is_bullet(part[0].text) or (
                _MARKER.match(part[0].text) and part[1].x0 - part[0].x1 >= GUTTER_EM * part[0].size)):
            pending, part = part[0].text, part[1:]
        line = Line(part)
        line.marker = pending
        pending = None
        out.append(line)
    return out


def is_bullet(marker: str | None) -> bool:
    """True for a bullet glyph (a symbol or private-use character), False for a number or letter."""
    if not marker or len(marker) != 1:
        return False
    return marker in _BULLET_CHARS or "\uf000" <= marker <= "\uf8ff" or marker in "–—-*o"


# -- blocks ---------------------------------------------------------------------------------------------
def _rule_between(rules: list[Rule], upper: Line | Block, lower: Line | Block) -> bool:
    x0, x1 = max(upper.x0, lower.x0), min(upper.x1, lower.x1)
    return any(r.x0 <= x1 and r.x1 >= x0 and upper.bottom - 1 <= r.y <= lower.top + 1 for r in rules)


def _same_style(a: Line, b: Line) -> bool:
    return abs(a.size - b.size) <= 0.08 * max(a.size, b.size) and a.bold == b.bold


def _blocks(lines: list[Line], rules: list[Rule]) -> list[Block]:
    blocks: list[Block] = []
    for ln in sorted(lines, key=lambda ln: (ln.top, ln.x0)):
        best: Block | None = None
        best_gap = 0.0
        for b in blocks[-12:]:
            last = b.lines[-1]
            gap = ln.top - last.bottom
            overlap = min(ln.x1, last.x1) - max(ln.x0, last.x0)
            if (-0.3 * last.height <= gap <= LINE_GAP_EM * last.height and overlap > 0.3 * min(ln.x1 - ln.x0, last.x1 - last.x0)
                    and _same_style(ln, last) and ln.marker is None and not _rule_between(rules, last, ln)
                    and (best is None or gap < best_gap)):
                best, best_gap = b, gap
        if best is not None:
            best.lines.append(ln)
        else:
            blocks.append(Block([ln]))
    return blocks


# -- reading order --------------------------------------------------------------------------------------
def _order(blocks: list[Block], rules: list[Rule]) -> list[Block]:
    """Blocks in reading order (Breuel's two rules, see the module doc); ties go to the top-most, then left-most."""
    n = len(blocks)
    if n > MAX_ORDERED_BLOCKS:
        return sorted(blocks, key=lambda b: (round(b.top), b.x0))
    box = [(b.x0, b.x1, b.top, b.bottom) for b in blocks]
    obstacles = box + [(r.x0, r.x1, r.y, r.y) for r in rules]
    by_top = sorted(range(len(obstacles)), key=lambda k: obstacles[k][2])
    tops = [obstacles[k][2] for k in by_top]
    succ: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    for i in range(n):
        ax0, ax1, at, ab = box[i]
        for j in range(n):
            if i == j:
                continue
            bx0, bx1, bt, bb = box[j]
            if min(ax1, bx1) - max(ax0, bx0) > 0:
                before = (at + ab) < (bt + bb)
            elif ax1 <= bx0 + 1:
                lo, hi = (ab, bt) if ab <= bt else (bb, at) if bb <= at else (0.0, -1.0)
                before = True
                for k in by_top[bisect.bisect_left(tops, lo - 1):bisect.bisect_right(tops, hi + 1)]:
                    ox0, ox1, _ot, ob = obstacles[k]
                    if k != i and k != j and ob <= hi + 1 and ox0 < ax1 and ox1 > ax0 and ox0 < bx1 and ox1 > bx0:
                        before = False
                        break
            else:
                before = False
            if before:
                succ[i].append(j)
                indeg[j] += 1
    ready = [(box[i][2], box[i][0], i) for i in range(n) if indeg[i] == 0]
    heapq.heapify(ready)
    out: list[int] = []
    while ready:
        *_, i = heapq.heappop(ready)
        out.append(i)
        for j in succ[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                heapq.heappush(ready, (box[j][2], box[j][0], j))
    if len(out) < n:  # a cycle (overlapping boxes): the rest by position
        done = set(out)
        out += sorted((i for i in range(n) if i not in done), key=lambda i: (box[i][2], box[i][0]))
    return [blocks[i] for i in out]


def merge_rules(rules: list[Rule]) -> list[Rule]:
    """Rules on one height whose ends touch (a table's row line drawn cell by cell) made one."""
    out: list[Rule] = []
    for r in sorted(rules, key=lambda r: (round(r.y), r.x0)):
        if out and abs(out[-1].y - r.y) <= 1.5 and r.x0 <= out[-1].x1 + 3:
            out[-1].x1 = max(out[-1].x1, r.x1)
        else:
            out.append(Rule(r.x0, r.x1, r.y))
    return out


def page_blocks(chars: list[Char], rules: list[Rule], vrules: list[tuple[float, float, float]],
                page: int, height: float) -> list[Block]:
    """The blocks of one page in reading order; blocks wholly inside the top or bottom :data:`EDGE_BAND`
    of the page (running headers, footers, page numbers) come first and last, by position.

    Args:
        chars: the page's characters in content-stream order (y from the top, points).
        rules: horizontal rules and box edges (:func:`merge_rules` is applied here).
        vrules: vertical rules as (x, y from, y to): a gap they run through is always a gutter.
        page: the 1-based page number stored on each block.
        height: the page's height (points).
    """
    words = words_from_chars(chars)
    if not words:
        return []
    rules = merge_rules(rules)
    lines = _segments(_rows(words), vrules)
    blocks = _blocks(lines, rules)
    for b in blocks:
        b.page = page
    head = [b for b in blocks if b.bottom <= EDGE_BAND * height]
    foot = [b for b in blocks if b.top >= (1 - EDGE_BAND) * height]
    middle = [b for b in blocks if b not in head and b not in foot]
    by_place = lambda b: (b.top, b.x0)  # noqa: E731
    return sorted(head, key=by_place) + _order(middle, rules) + sorted(foot, key=by_place)
