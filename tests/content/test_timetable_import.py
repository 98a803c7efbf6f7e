"""Reading timetable files: Vitrina's CSV in its encodings and dialects, and aSc XML."""

from __future__ import annotations

from datetime import time

import pytest

from content.timetable import Period
from content.timetable_import import (
    ImportedLesson,
    check_against,
    normalise_class,
    read_asc_xml,
    read_csv,
    read_timetable,
)

GOOD_CSV = """День;Урок;Класс;Предмет;Учитель;Кабинет;Неделя;Корпус;Этаж
Пн;1;7Б;Математика;Иванова А. П.;204;;Главный;2
Пн;2;7Б/1;Английский;Smith J.;301;Б;;
Пн;2;7б/2;Английский;Jones K.;302;Б;;
Понедельник;2;7Б;Русский язык;Петров И. С.;205;А;;
3;1;8А;История;Петров И. С.;205;;;
"""


def lessons(result: object) -> list[tuple[int, int, str, str, str, str, str]]:
    return [(x.weekday, x.period, x.group, x.subject, x.teacher, x.room, x.week)
            for x in result.lessons]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("encoding", "delimiter", "bom"), [
    ("utf-8", ";", False), ("utf-8", ";", True), ("cp1251", ",", False), ("utf-8", "\t", False),
    ("cp1251", ";", False),
])
def test_csv_in_its_encodings_and_dialects(encoding: str, delimiter: str, bom: bool) -> None:
    text = GOOD_CSV.replace(";", delimiter)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)
    result = read_csv(data, "tt.csv")
    assert result.problems == []
    assert lessons(result) == [
        (0, 1, "7Б", "Математика", "Иванова А. П.", "204", ""),
        (0, 2, "7Б/1", "Английский", "Smith J.", "301", "B"),
        (0, 2, "7Б/2", "Английский", "Jones K.", "302", "B"),
        (0, 2, "7Б", "Русский язык", "Петров И. С.", "205", "A"),
        (2, 1, "8А", "История", "Петров И. С.", "205", ""),
    ]
    assert result.rooms["204"].building == "Главный" and result.rooms["204"].floor == 2
    assert [x.row for x in result.lessons] == [2, 3, 4, 5, 6]


def test_english_headers_and_crlf() -> None:
    data = b"weekday,period,class,subject,teacher,room,week\r\nMon,1,7A,Maths,Ivanova,204,A\r\n"
    result = read_csv(data)
    assert result.problems == [] and lessons(result) == [
        (0, 1, "7A", "Maths", "Ivanova", "204", "A")]


def test_a_malformed_csv_reports_every_problem_by_row() -> None:
    rows = [
        "День;Урок;Класс;Предмет;Учитель;Кабинет;Неделя",
        "Пн;1;7Б;Математика;Иванова;204;",        # 2: fine
        "Пн;1;7Б;Физика;Сидорова;301;",           # 3: 7Б already has period 1 on Monday
        "Пн;9;7Б;Химия;Сидорова;301;",            # 4: period 9 is not in the bells
        "Вт;2;7Ж;Химия;Сидорова;301;",            # 5: no class 7Ж in the school
        "Пт;x;7Б;Химия;Сидорова;301;",            # 6: period is not a number
        "Пнд;1;8А;Химия;Сидорова;301;",           # 7: not a weekday
        "Ср;1;;Химия;Сидорова;301;",              # 8: no class
        "Ср;2;8А;;Сидорова;301;В",                # 9: no subject and a bad week
    ]
    data = ("\n".join(rows) + "\n").encode("utf-8")
    bad_line = "Чт;3;8А;Литература;Петров;205;".encode("cp1251")   # 10: not UTF-8
    data += bad_line + b"\n"
    result = read_csv(data, "tt.csv")
    check_against(result, classes=["7Б", "8А"], periods=range(1, 8))
    found = [(p.row, p.column, p.code) for p in result.problems]
    assert found == [
        (3, "group", "duplicate"),
        (4, "period", "period_range"),
        (5, "group", "unknown_class"),
        (6, "period", "period"),
        (7, "weekday", "weekday"),
        (8, "group", "class_key"),
        (9, "subject", "required"),
        (9, "week", "week"),
        (10, "", "encoding"),
    ]
    assert not result.ok
    by_row = {p.row: p.message for p in result.problems}
    assert by_row[3] == "7Б already has a lesson then (row 2)."
    assert by_row[4] == "Period 9 is not in the bell schedule (1 … 7)."
    assert by_row[5] == "The school has no class 7Ж."


def test_week_a_and_b_lessons_do_not_clash_but_every_week_does() -> None:
    data = ("день;урок;класс;предмет;неделя\nПн;1;7Б;A;А\nПн;1;7Б;B;Б\nПн;1;7Б;C;\n"
            ).encode()
    result = read_csv(data)
    assert [(p.row, p.code) for p in result.problems] == [(4, "duplicate")]


def test_a_header_without_required_columns() -> None:
    result = read_csv("Имя;Фамилия\nА;Б\n".encode())
    assert {(p.row, p.column, p.code) for p in result.problems} == {
        (1, "weekday", "missing_column"), (1, "period", "missing_column"),
        (1, "group", "missing_column"), (1, "subject", "missing_column")}


def test_empty_file_and_no_bells() -> None:
    assert [p.code for p in read_csv(b"").problems] == ["empty"]
    result = read_csv("день;урок;класс;предмет\nПн;1;7Б;A\n".encode())
    check_against(result, classes=[], periods=[])
    assert [p.code for p in result.problems] == ["no_bells"]


@pytest.mark.parametrize(("raw", "key"), [("7 б", "7Б"), ("7-Б/1", "7Б/1"), ("11а", "11А")])
def test_normalise_class(raw: str, key: str) -> None:
    assert normalise_class(raw) == key


ASC = """<?xml version="1.0" encoding="UTF-8"?>
<timetable ascttversion="2023.6.1" importtype="database">
  <periods>
    <period name="1" short="1" period="1" starttime="8:30" endtime="9:15"/>
    <period name="2" short="2" period="2" starttime="9:25" endtime="10:10"/>
    <period name="3" short="3" period="3" starttime="10:30" endtime="11:15"/>
  </periods>
  <weeksdefs>
    <weeksdef id="W0" name="Every week" short="All" weeks="11"/>
    <weeksdef id="WA" name="Week A" short="A" weeks="10"/>
  </weeksdefs>
  <subjects>
    <subject id="S1" name="Математика" short="Мат"/>
    <subject id="S2" name="Английский язык" short="Англ"/>
  </subjects>
  <teachers>
    <teacher id="T1" name="Иванова А. П." short="ИАП"/>
    <teacher id="T2" name="Smith J." short="SJ"/>
  </teachers>
  <classrooms><classroom id="R1" name="204"/><classroom id="R2" name="301"/></classrooms>
  <classes><class id="C1" name="7Б" short="7Б"/><class id="C2" name="8А" short="8А"/></classes>
  <groups>
    <group id="G1" classid="C1" name="Entire class" entireclass="1"/>
    <group id="G2" classid="C1" name="1" entireclass="0" divisiontag="1"/>
  </groups>
  <lessons>
    <lesson id="L1" classids="C1" subjectid="S1" teacherids="T1" classroomids="R1"
            groupids="G1" periodspercard="2" weeksdefid="W0"/>
    <lesson id="L2" classids="C1" subjectid="S2" teacherids="T2" groupids="G2"
            periodspercard="1" weeksdefid="WA"/>
    <lesson id="L3" classids="C2" subjectid="S1" teacherids="T1" periodspercard="1"/>
  </lessons>
  <cards>
    <card lessonid="L1" period="1" days="10000" weeks="11" classroomids="R1"/>
    <card lessonid="L2" period="3" days="01000" weeks="10" classroomids="R2"/>
    <card lessonid="L3" period="3" days="10000" classroomids="R1"/>
  </cards>
</timetable>
"""


def test_asc_xml_export() -> None:
    result = read_asc_xml(ASC.encode(), "school.xml")
    assert result.problems == []
    assert result.periods[0] == Period(1, time(8, 30), time(9, 15))
    assert lessons(result) == [
        (0, 1, "7Б", "Математика", "Иванова А. П.", "204", ""),
        (0, 2, "7Б", "Математика", "Иванова А. П.", "204", ""),   # a double lesson
        (1, 3, "7Б/1", "Английский язык", "Smith J.", "301", "A"),
        (0, 3, "8А", "Математика", "Иванова А. П.", "204", ""),
    ]
    assert result.lessons[0] == ImportedLesson(
        34, 0, 1, "7Б", "Математика", "Иванова А. П.", "204", "")   # the card's line


def test_asc_xml_with_broken_references_and_a_clash() -> None:
    broken = ASC.replace('<lesson id="L3" classids="C2"', '<lesson id="L3" classids="C9"') \
        .replace('<card lessonid="L2" period="3" days="01000"',
                 '<card lessonid="L7" period="3" days="01000"') \
        .replace("</cards>", '<card lessonid="L1" period="2" days="10000"/></cards>')
    result = read_asc_xml(broken.encode())
    check_against(result, classes=["7Б", "8А"], periods=[])
    assert [(p.row, p.code) for p in result.problems] == [
        (35, "asc_ref"), (36, "asc_class"), (37, "duplicate")]


@pytest.mark.parametrize(("data", "code"), [
    (b"<timetable><cards>", "xml"),
    (b"<?xml version='1.0'?><!DOCTYPE t [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]>"
     b"<timetable>&b;</timetable>", "xml"),
    (b"<html><body>hi</body></html>", "not_asc"),
    (b"<timetable></timetable>", "asc_empty"),
])
def test_hostile_or_wrong_xml_is_refused(data: bytes, code: str) -> None:
    assert [p.code for p in read_asc_xml(data).problems] == [code]


def test_read_timetable_chooses_by_content() -> None:
    assert read_timetable(ASC.encode(), "export.csv").format == "asc"
    assert read_timetable(GOOD_CSV.encode(), "export.xml").format == "csv"


def test_a_file_too_big_is_refused_unread() -> None:
    from content.timetable_import import MAX_BYTES

    huge = b"x" * (MAX_BYTES + 1)
    assert [p.code for p in read_csv(huge).problems] == ["too_big"]
    assert [p.code for p in read_asc_xml(b"<" + huge).problems] == ["too_big"]
