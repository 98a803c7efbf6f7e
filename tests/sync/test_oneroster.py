"""OneRoster CSV bundles as the register: students with their homeroom class and birth date,
leavers, bulk and delta, and what is wrong with a bundle."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from sync.oneroster import is_oneroster, read_oneroster
from sync.tables import ReadError

TODAY = date(2026, 11, 25)


def bundle(mode: str = "bulk", users: str | None = None, extra: dict[str, str] | None = None,
           ) -> bytes:
    files = {
        "manifest.csv": f"propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n"
                        f"file.users,{mode}\nfile.orgs,bulk\n",
        "orgs.csv": "sourcedId,status,dateLastModified,name,type\nORG9,,,Гимназия № 9,school\n",
        "users.csv": users or (
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,"
            "givenName,familyName,middleName,identifier\n"
            "U1,,,true,ORG9,student,p.ivanov,Пётр,Иванов,Сергеевич,\n"
            "U2,tobedeleted,,true,ORG9,student,a.smirnova,Анна,Смирнова,,\n"
            "U3,,,true,ORG9,student,i.kuz,Илья,Кузнецов,,\n"
            "T1,,,true,ORG9,teacher,t.orlova,Вера,Орлова,,\n"),
        "classes.csv": "sourcedId,status,dateLastModified,title,classType,schoolSourcedId\n"
                       "C7B,,,7 Б,homeroom,ORG9\nMATH,,,Алгебра 7Б,scheduled,ORG9\n"
                       "C9V,,,9В,homeroom,ORG9\n",
        "enrollments.csv": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,"
                           "userSourcedId,role,primary,beginDate,endDate\n"
                           "E1,,,MATH,ORG9,U1,student,false,2026-09-01,\n"
                           "E2,,,C7B,ORG9,U1,student,true,2026-09-01,\n"
                           "E3,,,C9V,ORG9,U3,student,true,2025-09-01,2026-10-31\n",
        "demographics.csv": "sourcedId,status,dateLastModified,birthDate,sex\n"
                            "U1,,,2014-03-02,male\nU3,,,2012-01-01,male\n",
        **(extra or {}),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, text in files.items():
            zf.writestr(f"export/{name}", text)
    return out.getvalue()


def test_students_with_homeroom_birth_date_and_leavers() -> None:
    data = bundle()
    assert is_oneroster(data) and not is_oneroster(b"PK\x03\x04junk")
    roster = read_oneroster(data, today=TODAY)
    assert roster.mode == "bulk"
    by_id = {p.register_id: p for p in roster.pupils}
    assert set(by_id) == {"U1", "U2", "U3"}                   # the teacher is not a pupil
    petr = by_id["U1"]
    assert (petr.full_name, petr.class_name, petr.birth_date, petr.school, petr.status) == (
        "Иванов Пётр Сергеевич", "7Б", date(2014, 3, 2), "Гимназия № 9", "enrolled")
    assert by_id["U2"].status == "left"                       # tobedeleted
    assert (by_id["U3"].status, by_id["U3"].left_on) == ("left", date(2026, 10, 31))


def test_a_delta_bundle_says_so() -> None:
    assert read_oneroster(bundle("delta"), today=TODAY).mode == "delta"


@pytest.mark.parametrize(("users", "message"), [
    ("sourcedId,role,givenName,familyName\n,student,Пётр,Иванов\n", "users.csv, row 2, column "
                                                                  "“sourcedId”: Empty"),
    ("sourcedId,role,givenName,familyName\nU1,student,Пётр,Иванов\nU1,student,Анна,Смирнова\n",
     "“U1” is on row 2 too"),
    ("sourcedId,role,givenName,familyName\nU1,student,Пётр,\n", "the surname is needed"),
    ("sourcedId,role,givenName,familyName\nT1,teacher,Вера,Орлова\n", "holds no students"),
])
def test_what_is_wrong_with_a_bundle(users: str, message: str) -> None:
    with pytest.raises(ReadError, match=message):
        read_oneroster(bundle(users=users), "roster.zip", today=TODAY)


def test_a_bundle_without_users() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("manifest.csv", "propertyName,value\nfile.users,absent\n")
    with pytest.raises(ReadError, match="no users.csv"):
        read_oneroster(out.getvalue(), "roster.zip")
