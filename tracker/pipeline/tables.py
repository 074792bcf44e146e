"""Task tables (任务分工表, 重点任务清单), whatever they came from.

The readers turn every table into tab-separated lines, one row a line (.docx and .xlsx
here; text pasted from Word, WPS or a browser arrives that way already), so this is the
one place that reads tables: it finds the header row by its cell names, maps columns to
roles, and reads each data row as one task.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

# Column roles by header name. Order matters: 牵头领导 is a leader before 牵头 is a lead,
# 责任单位 a unit before 任务 could claim 工作任务责任单位.
_COLUMN_NAMES = (
    ("leader", re.compile(r"责任领导|分管领导|牵头领导|牵头.{0,2}领导|联系领导|责任人")),
    ("lead", re.compile(r"牵头|主办|主责")),
    ("co", re.compile(r"配合|协办|协助|参与|协同|协作")),
    ("resp", re.compile(r"责任(?:单位|部门|处室|主体)|实施(?:单位|主体)|落实单位|承办|单位|部门")),
    ("time", re.compile(r"时限|时间|时间节点|期限|进度安排|进度|截止|完成日期")),
    ("remark", re.compile(r"备注|说明")),
    # what a task must achieve is not the task: 工作目标 beside 工作任务 must not win
    ("target", re.compile(r"目标|标准|成果|标志|要求|成效")),
    ("seq", re.compile(r"序号?|编号|排序|no\.?|#", re.IGNORECASE)),
    ("task", re.compile(r"任务|措施|内容|事项|项目|举措|工作|名称|重点")),
)
_SEQ_ONLY = re.compile(r"序号?|编号|排序|no\.?|#", re.IGNORECASE)
_HEADER_CELL_MAX = 12  # a header cell is a name, not a sentence
_REMARK = re.compile(r"[(（][^()（）]*[)）]|\s+")


# Every row is asked whether it is a header, and its cells (units, limits) repeat.
@lru_cache(maxsize=1024)
def column_role(cell: str) -> str | None:
    name = _REMARK.sub("", cell)
    if not name or len(name) > _HEADER_CELL_MAX:
        return None
    for role, pattern in _COLUMN_NAMES:
        if role == "seq":
            if _SEQ_ONLY.fullmatch(name):
                return role
            continue
        if pattern.search(name):
            return role
    return None


@dataclass
class Header:
    roles: dict[int, str]  # column index → role
    task: int  # the column a row's task text comes from
    group: int | None = None  # an earlier task column that groups rows (部署任务)
    names: dict[int, str] = field(default_factory=dict)  # column index → header text

    def columns(self, role: str) -> list[int]:
        return [i for i, r in self.roles.items() if r == role]


def read_header(cells: list[str]) -> Header | None:
    """The header a row is, if its cells name a task column and who or when."""
    roles = {}
    for i, cell in enumerate(cells):
        role = column_role(cell)
        if role:
            roles[i] = role
    tasks = [i for i, r in roles.items() if r == "task"]
    if not tasks or not {"lead", "resp", "co", "time", "leader"} & set(roles.values()):
        return None
    # The most specific task column (落实措施 after 部署任务) holds the task; an earlier one
    # is the heading its rows share.
    return Header(
        roles=roles,
        task=tasks[-1],
        group=tasks[0] if len(tasks) > 1 else None,
        names={i: _REMARK.sub("", cells[i]) for i in roles},
    )


def is_header_row(cells: list[str]) -> bool:
    return read_header(cells) is not None


# --- one row --------------------------------------------------------------------------


@dataclass
class Cell:
    start: int  # offsets in the clean text
    end: int
    text: str


def split_row(line: str, start: int) -> list[Cell]:
    """The cells of a tab-separated line, each trimmed, with absolute offsets."""
    cells = []
    pos = 0
    for piece in line.split("\t"):
        left = len(piece) - len(piece.lstrip())
        text = piece.strip()
        cells.append(Cell(start + pos + left, start + pos + left + len(text), text))
        pos += len(piece) + 1
    return cells


def align(cells: list[Cell], width: int, seq_first: bool) -> list[Cell]:
    """A row copied from a browser loses the cells a merged (rowspan) cell covered on the
    left; put what is there under the rightmost columns."""
    if len(cells) >= width or (seq_first and cells and cells[0].text.isdigit()):
        return cells
    pad = [Cell(cells[0].start if cells else 0, cells[0].start if cells else 0, "")]
    return pad * (width - len(cells)) + cells
