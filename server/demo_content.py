"""Demo content: a week of school news in Russian and English, a poll, links, a Q&A set
and a media slide, with pictures drawn by the demo itself."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from server.content_schemas import AlertRaise, ItemCreate, QaEntry
from server.models.orgs import Organisation
from server.services import content, media
from server.services.context import Ctx

#: (day offset from today, language, title, body HTML, picture colours or None)
NEWS = [
    (-3, "ru", "Итоги школьного этапа олимпиады по математике",
     "<p>Поздравляем победителей и призёров! <b>14 учеников</b> прошли на муниципальный "
     "этап. Списки — у классных руководителей.</p>", ("#1f5eff", "#7fd1ff")),
    (-2, "ru", "Неделя безопасности дорожного движения",
     "<p>С понедельника по пятницу на классных часах говорим о правилах дорожного "
     "движения. В пятницу — встреча с инспектором ГИБДД в актовом зале.</p>", None),
    (-1, "en", "English Club meets on Wednesdays",
     "<p>Grades 7–11 are welcome in room <b>214</b> at 15:30. This month: "
     "<i>board games and debates</i>.</p>", ("#0f9d8a", "#c7f5e8")),
    (0, "ru", "Сегодня — день открытых дверей",
     "<h2>Приглашаем родителей будущих первоклассников</h2><p>Экскурсии по школе в "
     "10:00, 12:00 и 14:00. Встречаемся у гардероба.</p>", ("#e07a00", "#ffe2a8")),
    (0, "en", "Science fair: projects due Friday",
     "<p>Hand in your project outline to your science teacher by <b>Friday</b>. "
     "The best projects go to the city fair.</p><ul><li>Posters A1</li>"
     "<li>Models up to 1 m</li></ul>", None),
    (1, "ru", "Сбор макулатуры «Бумажный бум»",
     "<p>Принимаем макулатуру у хозяйственного входа с 8:00 до 9:00. Класс-победитель "
     "получит поездку в ботанический сад.</p>", ("#3a8f2f", "#d9f7c9")),
    (2, "ru", "Концерт ко Дню матери",
     "<p>В пятницу в 17:00 в актовом зале — праздничный концерт. Вход свободный.</p>",
     ("#8a3ffc", "#f1d9ff")),
    (3, "en", "Library: new books in English",
     "<p>Thirty new graded readers have arrived. Ask at the library desk, "
     "second floor.</p>", None),
]

QA = [
    ("Что делать, если потерял карту?",
     "Сообщите классному руководителю и подойдите в канцелярию: старую карту "
     "заблокируют, новую выдадут в течение двух дней."),
    ("Когда работает столовая?", "С 8:00 до 16:00; обед для 1–4 классов — после 3-го "
     "урока, для 5–11 классов — после 4-го урока."),
    ("Где узнать замены уроков?", "На экране в холле и в электронном дневнике; замены "
     "на завтра появляются до 18:00."),
    ("Can I pay for lunch with my card?", "Yes. Top up your card at the canteen desk or "
     "online; the balance is shown at the till."),
]

LINKS = [
    ("Электронный дневник", "https://dnevnik.ru/",
     "Оценки, домашние задания и расписание."),
    ("Школьное меню на неделю", "https://gymnasium9.example.ru/menu",
     "Отсканируйте код телефоном."),
    ("School website (English)", "https://gymnasium9.example.ru/en/", ""),
]


def picture(seed: int, colours: tuple[str, str], size: tuple[int, int] = (1280, 720)
            ) -> bytes:
    """A friendly abstract picture: a two-colour gradient with soft circles (PNG bytes)."""
    rng = random.Random(seed)
    top, bottom = (Image.new("RGB", (1, 1), c).getpixel((0, 0)) for c in colours)
    im = Image.new("RGB", size)
    draw = ImageDraw.Draw(im)
    w, h = size
    for y in range(h):
        t = y / (h - 1)
        draw.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t)  # type: ignore[arg-type]
                                               for a, b in zip(top, bottom, strict=True)))
    for _ in range(9):
        r = rng.randint(h // 12, h // 4)
        x, y = rng.randint(0, w), rng.randint(0, h)
        draw.ellipse([x - r, y - r, x + r, y + r], outline="white", width=rng.randint(4, 14))
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def seed_content(session: Session, ctx: Ctx, school: Organisation,
                 buildings: list[Organisation]) -> int:
    """Publish the demo content of a school; returns how many items were made."""
    zone = ZoneInfo(school.timezone)
    today = datetime.now(UTC).astimezone(zone).date()

    def at(days: int, hour: int) -> datetime:
        return datetime.combine(today + timedelta(days=days), time(hour), zone)

    made = 0

    def publish(data: ItemCreate) -> int:
        nonlocal made
        item = content.create_item(ctx, data)
        content.publish_item(ctx, item.id)
        made += 1
        return item.id

    for n, (day, _lang, title, body, colours) in enumerate(NEWS):
        media_id = None
        if colours:
            media_id = media.upload(ctx, school.id, f"news-{n + 1}.png",
                                    picture(n, colours)).id
        publish(ItemCreate(kind="news", org_id=school.id, title=title, body=body,
                           media_id=media_id, target_org_ids=[school.id],
                           starts_at=at(day, 0), ends_at=at(day + 4, 20),
                           priority=1 if day == 0 else 0, duration=15))
    publish(ItemCreate(kind="poll", org_id=school.id,
                       title="Какой кружок открыть во втором полугодии?",
                       body="Голосуйте с телефона: наведите камеру на QR-код.",
                       options=["Робототехника", "Шахматы", "Театральная студия",
                                "3D-моделирование"],
                       target_org_ids=[school.id], ends_at=at(14, 20), duration=20))
    publish(ItemCreate(kind="qa", org_id=school.id, title="Частые вопросы / FAQ",
                       qa=[QaEntry(question=q, answer=a) for q, a in QA],
                       target_org_ids=[school.id], target_groups=["lobby"],
                       duration=25))
    for title, url, body in LINKS:
        publish(ItemCreate(kind="link", org_id=school.id, title=title, url=url, body=body,
                           target_org_ids=[school.id]))
    slide = media.upload(ctx, school.id, "autumn.png", picture(99, ("#c2410c", "#fde68a")))
    publish(ItemCreate(kind="media", org_id=school.id, title="Осенний фотоконкурс",
                       body="Работы принимаются до конца месяца, каб. 105.",
                       media_id=slide.id, fit="cover", target_org_ids=[school.id],
                       target_groups=["canteen", "lobby"], target_mode="any"))
    publish(ItemCreate(kind="news", org_id=school.id,
                               title="Обед по расписанию: 1–4 классы",
                               body="<p>Приятного аппетита!</p>",
                               target_org_ids=[b.id for b in buildings] or [school.id],
                               target_groups=["canteen"], target_mode="all",
                               weekdays=[0, 1, 2, 3, 4], daily_start=time(11, 30),
                               daily_end=time(13, 0)))
    # Yesterday's fire drill, withdrawn: it shows in the list and the audit log, not on screens.
    drill = content.raise_alert(ctx, AlertRaise(
        org_id=school.id, title="Учебная пожарная тревога",
        body="Спокойно покиньте здание по ближайшему выходу.", severity="warning"))
    content.expire_item(ctx, drill.id)
    made += 1
    content.create_item(ctx, ItemCreate(
        kind="news", org_id=school.id, title="Черновик: лыжные соревнования",
        body="<p>Дата уточняется.</p>", target_org_ids=[school.id]))
    return made + 1

