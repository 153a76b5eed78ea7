"""Admin texts (Russian and English) and the pure functions that put a refresh into words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from report.formatting import fmt_number, fmt_short

TEXTS: dict[str, tuple[str, str]] = {
    "refresh": ("Обновить данные", "Refresh data"),
    "cancel": ("Отменить", "Cancel"),
    "login": ("Вход для администратора", "Admin sign-in"),
    "logout": ("Выйти", "Sign out"),
    "admin_as": ("Администратор: {user}", "Admin: {user}"),
    "stage_pull": ("Загрузка из amoCRM", "Pulling from amoCRM"),
    "stage_pull_col": (
        "Загрузка из amoCRM: {col} — {records} записей, {requests} запросов",
        "Pulling from amoCRM: {col} — {records} records, {requests} requests",
    ),
    "stage_build": ("Сборка снимка данных", "Building the data snapshot"),
    "stage_step": ("{stage}, шаг {index} из {total}: {what}", "{stage}, step {index} of {total}: {what}"),
    "step_files": ("файл {done} из {of}", "file {done} of {of}"),
    "stage_publish": ("Публикация нового снимка", "Publishing the new snapshot"),
    "stage_done": ("Готово", "Done"),
    "starting": ("Запуск обновления…", "Starting the refresh…"),
    "joined": ("Обновление уже идёт — показываем его ход", "A refresh is already running — showing its progress"),
    "cancelling": ("Отмена…", "Cancelling…"),
    "ok": (
        "Данные обновлены: {records} записей загружено за {duration}, новый снимок показан.",
        "Data refreshed: {records} records pulled in {duration}; the new snapshot is shown.",
    ),
    "cancelled": (
        "Обновление отменено; показываются прежние данные.",
        "Refresh cancelled; the previous data is still shown.",
    ),
    "failed": (
        "Обновление не удалось: {reason}. Показываются прежние данные.",
        "Refresh failed: {reason}. The previous data is still shown.",
    ),
    "last_at": ("Последнее обновление: {when}", "Last refresh: {when}"),
    "refused": (
        "Нет прав администратора (или сессия истекла): войдите снова.",
        "Not signed in as admin (or the session expired): please sign in again.",
    ),
    "start_error": ("Не удалось запустить обновление: {reason}", "Could not start the refresh: {reason}"),
    "no_running": ("Сейчас ничего не обновляется.", "No refresh is running."),
}

ERROR_KINDS: dict[str, tuple[str, str]] = {
    "auth": (
        "amoCRM не принял токен доступа (истёк или отозван) — нужен новый токен",
        "amoCRM rejected the access token (expired or revoked) — a new token is needed",
    ),
    "blocked": (
        "amoCRM заблокировал доступ (ответ 403 страницей вместо API) — обратитесь в поддержку amoCRM",
        "amoCRM blocked access (an HTML 403 page instead of the API) — contact amoCRM support",
    ),
    "unpaid": ("аккаунт amoCRM не оплачен (402)", "the amoCRM account is not paid (402)"),
    "network": (
        "amoCRM недоступен (сеть или ошибки сервера amoCRM)",
        "amoCRM is unavailable (network or amoCRM server errors)",
    ),
    "rate_limit": ("amoCRM ограничил частоту запросов (429)", "amoCRM throttled the requests (429)"),
    "data": ("данные не удалось собрать в снимок", "the data could not be built into a snapshot"),
    "internal": ("внутренняя ошибка обновления", "an internal error in the refresh"),
    "guard": (
        "новый снимок потерял бы слишком много данных, он не опубликован (обновите с --force, если так и задумано)",
        "the new snapshot would lose too much data and was not published (refresh with --force if intended)",
    ),
    "disk": (
        "папка данных не принимает запись (нет места, только чтение или нет прав)",
        "the data folder refuses writes (disk full, read-only or no permission)",
    ),
}

#: The build's steps (etl.progress.BUILD_STEPS) in words, and what each one's count counts.
BUILD_STEPS: dict[str, tuple[str, str]] = {
    "read": ("чтение выгрузки", "reading the export"),
    "deals": ("сделки", "deals"),
    "entries": ("история статусов", "status history"),
    "touches": ("звонки и SMS", "calls and SMS"),
    "tasks": ("задачи", "tasks"),
    "facts": ("производные столбцы", "derived columns"),
    "write": ("запись таблиц", "writing the tables"),
    "publish": ("переключение на новый снимок", "switching to the new snapshot"),
}
STEP_UNITS: dict[str, tuple[str, str]] = {
    "read": ("записей прочитано", "records read"),
    "deals": ("сделок", "deals"),
    "entries": ("событий", "events"),
    "touches": ("примечаний", "notes"),
    "tasks": ("задач", "tasks"),
    "facts": ("переходов", "status entries"),
    "write": ("строк", "rows"),
}

COLLECTIONS: dict[str, tuple[str, str]] = {
    "account": ("аккаунт", "account"),
    "users": ("пользователи", "users"),
    "pipelines": ("воронки", "pipelines"),
    "lead_fields": ("поля сделок", "lead fields"),
    "leads": ("сделки", "deals"),
    "contacts": ("контакты", "contacts"),
    "events": ("события", "events"),
    "lead_notes": ("примечания сделок", "deal notes"),
    "contact_notes": ("примечания контактов", "contact notes"),
    "tasks": ("задачи", "tasks"),
}


def t(key: str, lang: str, **kw: Any) -> str:
    ru, en = TEXTS[key]
    text = en if lang == "en" else ru
    return text.format(**kw) if kw else text


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def fmt_seconds(seconds: float | None, lang: str) -> str:
    """A short duration: 45 с / 3 мин 5 с."""
    if seconds is None:
        return "—"
    s = max(0, round(seconds))
    sec, mn = ("с", "мин") if lang != "en" else ("s", "min")
    if s < 60:
        return f"{s} {sec}"
    return f"{s // 60} {mn} {s % 60} {sec}"


def fmt_count(n: int, lang: str) -> str:
    """A count for a progress line: exact under 10 000, then in words (``2,7 млн``)."""
    return fmt_number(n, lang) if n < 10_000 else fmt_short(n, lang)


def step_text(stage: str, step: Mapping[str, Any], lang: str) -> str:
    """«Сборка снимка данных, шаг 3 из 8: история статусов — 2,7 млн событий»."""
    key = str(step.get("key"))
    what = _pick(BUILD_STEPS.get(key, (key, key)), lang)
    count, part = step.get("count"), step.get("part")
    if isinstance(count, int) and key in STEP_UNITS:
        what += f" — {fmt_count(count, lang)} {_pick(STEP_UNITS[key], lang)}"
    if isinstance(part, list) and len(part) == 2:
        what += f" ({t('step_files', lang, done=part[0] + 1, of=part[1])})"
    head = t("stage_build" if stage == "build" else "stage_publish", lang)
    return t("stage_step", lang, stage=head, index=step.get("index"), total=step.get("total"), what=what)


def stage_text(progress: Mapping[str, Any], lang: str) -> str:
    """What the refresh is doing now, with counts: "Загрузка из amoCRM: сделки — 1 234 записей, 6 запросов",
    "Сборка снимка данных, шаг 3 из 8: история статусов — 2,7 млн событий"."""
    stage = progress.get("stage")
    if stage in ("build", "publish"):
        step = progress.get("step")
        if isinstance(step, dict) and step.get("index"):
            return step_text(str(stage), step, lang)
        return t("stage_build" if stage == "build" else "stage_publish", lang)
    if stage == "done":
        return t("stage_done", lang)
    col = progress.get("collection")
    cols = progress.get("collections") if isinstance(progress.get("collections"), dict) else {}
    if col and isinstance(cols.get(col), dict):
        entry = cols[col]
        return t(
            "stage_pull_col",
            lang,
            col=_pick(COLLECTIONS.get(col, (col, col)), lang),
            records=fmt_number(int(entry.get("records") or 0), lang),
            requests=fmt_number(int(entry.get("requests") or 0), lang),
        )
    return t("stage_pull", lang)


def error_text(error: Mapping[str, Any] | None, lang: str) -> str:
    """The reason in words: the kind (always known words) plus the refresh's own sentence."""
    if not error:
        return _pick(ERROR_KINDS["internal"], lang)
    kind = str(error.get("kind") or "internal")
    words = _pick(ERROR_KINDS.get(kind, ERROR_KINDS["internal"]), lang)
    detail = str(error.get("message") or "").strip()
    return f"{words} ({detail})" if detail else words


def result_text(record: Mapping[str, Any], lang: str) -> str:
    """How a finished refresh ended, for the admin."""
    result = record.get("result")
    if result == "succeeded":
        return t(
            "ok",
            lang,
            records=fmt_number(int(record.get("records_pulled") or 0), lang),
            duration=fmt_seconds(record.get("duration_s"), lang),
        )
    if result == "cancelled":
        return t("cancelled", lang)
    return t("failed", lang, reason=error_text(record.get("error"), lang))
