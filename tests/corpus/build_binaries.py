"""Build the corpus's binary documents (.docx, .xlsx) from the text below.

Run from anywhere: `.venv/bin/python tests/corpus/build_binaries.py`. The generated files
are committed; rerun only when the text here changes. Output is deterministic in content
(python-docx / openpyxl may still stamp creation times in the package metadata).
"""

from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------- 04: Word task table
DOCX_NAME = "04_renwu_biao.docx"
DOCX_TITLE = "临江市2024年困难群众救助保障重点任务分解表"
DOCX_PREAMBLE = (
    "为贯彻落实省委、省政府关于加强低收入人口动态监测和分层分类社会救助的部署要求，"
    "现将2024年困难群众救助保障重点任务分解如下，请各牵头单位会同配合单位抓好落实，"
    "每季度末向市民政局报送工作进展情况。"
)
DOCX_HEADER = ["序号", "重点任务", "具体措施", "牵头单位", "配合单位", "完成时限"]
DOCX_ROWS = [
    [
        "1",
        "提高救助保障标准",
        "城乡低保标准分别提高到每人每月820元、650元以上，同步调整特困人员基本生活标准。",
        "市民政局市财政局",
        "各县（市、区）人民政府",
        "2024年6月底前",
    ],
    [
        "2",
        "加强低收入人口动态监测",
        "完善低收入人口数据库，做到应纳尽纳、应退尽退。\n每季度开展一次跨部门数据比对，及时预警。",
        "市民政局",
        "市医保局、市人力资源社会保障局",
        "2024年9月底前",
    ],
    [
        "3",
        "加强急难临时救助",
        "落实“先行救助”和乡镇（街道）临时救助备用金制度，简化审批程序。",
        "市民政局",
        "市财政局\n各县（市、区）人民政府",
        "年底前",
    ],
    [
        "4",
        "发展服务类社会救助",
        "通过政府购买服务，为分散供养特困人员、低保家庭中的失能老年人提供照料护理等服务。",
        "市民政局",
        "市财政局",
        "长期坚持",
    ],
    [
        "5",
        "规范救助资金管理",
        "开展救助资金专项检查，各县（市、区）于2024年5月底前完成自查，市级组织抽查。",
        "市财政局、市民政局",
        "市审计局",
        "2024年10月底前",
    ],
    [
        "6",
        "加强救助政策宣传",
        "利用广播电视、政务新媒体等渠道宣传社会救助政策，提高政策知晓率。",
        "市民政局",
        "市委宣传部、市融媒体中心",
        "第三季度",
    ],
]


def build_docx():
    from docx import Document

    doc = Document()
    # Keep the file small: drop the default template's optional parts (not reachable = not saved).
    for rels in (doc.part.rels, doc.part.package.rels):
        for rId, rel in list(rels.items()):
            if rel.reltype.rsplit("/", 1)[-1] in ("stylesWithEffects", "customXml", "thumbnail"):
                rels.pop(rId)
    doc.add_paragraph(DOCX_TITLE)
    doc.add_paragraph(DOCX_PREAMBLE)
    table = doc.add_table(rows=1 + len(DOCX_ROWS), cols=len(DOCX_HEADER))
    for col, name in enumerate(DOCX_HEADER):
        table.cell(0, col).text = name
    for r, row in enumerate(DOCX_ROWS, start=1):
        for col, value in enumerate(row):
            cell = table.cell(r, col)
            lines = value.split("\n")
            cell.text = lines[0]
            for extra in lines[1:]:  # a multi-line cell: one paragraph per line, as Word has it
                cell.add_paragraph(extra)
    doc.add_paragraph("临江市民政局")
    doc.add_paragraph("2024年2月28日")
    doc.save(HERE / DOCX_NAME)


# ---------------------------------------------------------------- 05: Excel 任务清单
XLSX_NAME = "05_renwu_qingdan.xlsx"
XLSX_TOP = [["附件1"], ["临江市河东区民政局2024年养老服务重点任务清单"]]
XLSX_HEADER = ["序号", "牵头单位", "重点任务", "完成时限", "责任单位", "备注"]
XLSX_ROWS = [
    [
        1,
        "区民政局",
        "新建社区嵌入式养老服务机构3家，完善“一刻钟”居家养老服务圈。",
        "2024年9月底前",
        "各街道办事处",
        "",
    ],
    [
        2,
        "区民政局、区卫生健康局",
        "推进医养结合，养老机构与医疗卫生机构签约合作率达到100%。",
        datetime(2024, 11, 30),
        "各街道办事处",
        "",
    ],
    [
        3,
        "区民政局",
        "开展养老机构消防安全隐患排查整治，实现问题动态清零。",
        "上半年",
        "区消防救援大队、区应急管理局",
        "",
    ],
    [
        4,
        "区人力资源社会保障局",
        "开展养老护理员职业技能培训300人次。",
        "12月31日前",
        "区民政局",
        "纳入区级民生实事",
    ],
    [
        5,
        "区民政局",
        "扩大老年助餐服务覆盖面，推动助餐点向老旧小区延伸。",
        "持续推进",
        "各街道办事处、区商务局",
        "",
    ],
    [6, "区财政局", "足额落实养老服务补贴和运营补助资金。", "年内", "区民政局", ""],
]


def build_xlsx():
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "任务清单"
    for row in XLSX_TOP:
        ws.append(row)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(XLSX_HEADER))
    ws.append(XLSX_HEADER)
    for row in XLSX_ROWS:
        ws.append([value if value != "" else None for value in row])
    ws.cell(row=len(XLSX_TOP) + 3, column=4).number_format = "yyyy/m/d"  # the date cell
    wb.save(HERE / XLSX_NAME)


if __name__ == "__main__":
    build_docx()
    build_xlsx()
    print("wrote", DOCX_NAME, XLSX_NAME)
