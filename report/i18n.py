"""UI texts in Russian and English. Metric titles and definitions come from the metric registry."""

from __future__ import annotations

from etl.config import STAGE_LABELS

TEXTS: dict[str, tuple[str, str]] = {
    # key: (ru, en)
    "app_title": ("Отчёт по продажам", "Sales report"),
    "tab_funnels": ("Воронки", "Funnels"),
    "tab_time": ("Время между статусами", "Time between statuses"),
    "tab_touches_all": ("Касания: все воронки", "Touches: all pipelines"),
    "tab_touches_office": ("Касания: офис", "Touches: office"),
    "data_as_of": ("Данные на", "Data as of"),
    "stale": ("Данные устарели: последнее обновление {age} назад", "Data is stale: last refreshed {age} ago"),
    "no_snapshot": (
        "Нет данных: снимок ещё не собран (python -m etl build).",
        "No data yet: no snapshot has been built (python -m etl build).",
    ),
    "rows": ("Строк в снимке", "Rows in snapshot"),
    "period": ("Период", "Period"),
    "dates": ("Даты", "Dates"),
    "grain": ("Шаг", "Grain"),
    "cities": ("Города", "Cities"),
    "managers": ("Менеджеры", "Managers"),
    # «Канал», not «Воронки»: the first tab is called «Воронки» (issue 11).
    "channel": ("Канал", "Channel"),
    "hours": ("Часы", "Hours"),
    "cc": ("Менеджеры КЦ", "Contact-centre managers"),
    "rank_by": ("Ранжировать по", "Rank by"),
    "show_cc": ("Показать КЦ", "Show contact centre"),
    "funnel": ("Тип воронки", "Funnel type"),
    "as_of": ("Статус на дату", "Status as of"),
    "all_cities": ("Все города", "All cities"),
    "all_managers": ("Все менеджеры", "All managers"),
    "reset": ("Сбросить", "Reset"),
    "filters_toggle": ("Фильтры", "Filters"),
    "office_fixed": ("Только офисные воронки", "Office pipelines only"),
    # presets
    "p_today": ("Сегодня", "Today"),
    "p_last_7_days": ("Последние 7 дней", "Last 7 days"),
    "p_this_week": ("Эта неделя", "This week"),
    "p_last_week": ("Прошлая неделя", "Last week"),
    "p_this_month": ("Этот месяц", "This month"),
    "p_last_month": ("Прошлый месяц", "Last month"),
    "p_this_quarter": ("Этот квартал", "This quarter"),
    "p_last_quarter": ("Прошлый квартал", "Last quarter"),
    "p_this_year": ("Этот год", "This year"),
    "p_last_year": ("Прошлый год", "Last year"),
    "p_custom": ("Свои даты", "Custom"),
    # grains
    "g_day": ("День", "Day"),
    "g_week": ("Неделя", "Week"),
    "g_month": ("Месяц", "Month"),
    "g_quarter": ("Квартал", "Quarter"),
    "g_year": ("Год", "Year"),
    # channels, funnel types
    "c_all": ("Все", "All"),
    "c_office": ("Офис", "Office"),
    "c_contact_center": ("Контакт-центр", "Contact centre"),
    # the channel filter's own options: «Канал: офисы / КЦ / все»
    "ch_all": ("Все", "All"),
    "ch_office": ("Офисы", "Offices"),
    "ch_contact_center": ("КЦ", "Contact centre"),
    "h_calendar": ("Календарные", "Calendar"),
    "h_business": ("Рабочие", "Business"),
    "compare": ("Сравнить", "Compare"),
    "cmp_none": ("нет", "no"),
    "cmp_previous": ("с прошлым периодом", "with the previous period"),
    "cmp_year": ("с прошлым годом", "with a year earlier"),
    "prev_header": ("было", "previous"),
    "prev_period": ("пунктир — период сравнения", "dashed — compared period"),
    "f_cohort": ("Когорта", "Cohort"),
    "f_flow": ("Поток", "Flow"),
    # notices (a dropped part of the URL)
    "n_path": ("Страница «{v}» не найдена, открыты «Воронки».", "Page “{v}” not found; showing Funnels."),
    "n_city": ("Город «{v}» не найден в данных и не применён.", "City “{v}” is not in the data and was dropped."),
    "n_manager": ("Менеджер «{v}» не найден и не применён.", "Manager “{v}” was not found and was dropped."),
    "n_from": ("Дата начала «{v}» не распознана, период сброшен.", "Start date “{v}” is not a date; period reset."),
    "n_to": ("Дата конца «{v}» не распознана, период сброшен.", "End date “{v}” is not a date; period reset."),
    "n_range": ("Начало периода позже конца ({v}), период сброшен.", "Period starts after it ends ({v}); reset."),
    "n_period_incomplete": ("Период задан не полностью, он сброшен.", "The period was incomplete; reset."),
    "n_period": ("Период «{v}» не распознан.", "Unknown period “{v}”."),
    "n_grain": ("Шаг «{v}» не распознан.", "Unknown grain “{v}”."),
    "n_channel": ("Тип воронок «{v}» не распознан.", "Unknown pipeline class “{v}”."),
    "n_funnel": ("Тип воронки «{v}» не распознан.", "Unknown funnel type “{v}”."),
    "n_hours": ("Часы «{v}» не распознаны, взяты календарные.", "Hours “{v}” not recognised; calendar hours used."),
    "n_compare": ("Сравнение «{v}» не распознано, выключено.", "Comparison “{v}” not recognised; off."),
    "n_cc": ("Значение «{v}» переключателя КЦ не распознано.", "Contact-centre switch value “{v}” not recognised."),
    "n_asof": ("Дата «{v}» не распознана.", "Date “{v}” is not a date."),
    "n_lang": ("Язык «{v}» не поддерживается.", "Language “{v}” is not supported."),
    # panels
    "download_csv": ("CSV", "CSV"),
    "download_xlsx": ("XLSX", "XLSX"),
    "download_excel_csv": ("CSV для Excel", "CSV for Excel"),
    "copy_link": ("Скопировать ссылку", "Copy link"),
    "copied": ("Ссылка скопирована", "Link copied"),
    "no_data": ("Нет данных за выбранный период.", "No data for the chosen period."),
    "rows_shown": ("Показаны {n} из {m}", "Showing {n} of {m}"),
    "partial_period": ("неполный период", "incomplete period"),
    "log_time_axis": ("время, логарифмическая шкала", "time, log scale"),
    "rows_all": ("Показаны все {m}", "Showing all {m}"),
    "rows_no_value": ("без значения (только в таблице): {k}", "no value (table only): {k}"),
    "show_all": ("показать все", "show all"),
    "not_ready": ("Показатель ещё не готов.", "This metric is not available yet."),
    "error": ("Не удалось посчитать: {v}", "Could not compute: {v}"),
    "quality": ("Качество данных", "Data quality"),
    "q_deals_without_city": ("Сделок без города", "Deals without city"),
    "q_deals_city_not_in_config": ("Сделок с городом не из конфигурации", "Deals with a city not in config"),
    "q_deleted_deals": ("Удалённых сделок", "Deleted deals"),
    "q_unattributed_touches": ("Касаний без сделки", "Unattributed touches"),
    "q_events_unknown_deals": ("Событий по неизвестным сделкам", "Events for unknown deals"),
    "q_notes_unknown_deals": ("Примечаний по неизвестным сделкам", "Notes for unknown deals"),
    "q_tasks_unknown_deals": ("Задач по неизвестным сделкам", "Tasks for unknown deals"),
    "q_duplicate_records_dropped": ("Дублей отброшено", "Duplicates dropped"),
    "q_unmapped_statuses": ("Статусы без этапа в config.yaml", "Statuses not mapped in config.yaml"),
    "q_snapshot_age_hours": ("Возраст данных", "Data age"),
    "q_unmapped_status_deals": ("Сделок в таких статусах", "Deals in such statuses"),
    "q_issues": ("замечаний", "issues"),
    "q_wrong_type_values": ("Значений неверного типа в выгрузке", "Raw values of the wrong type"),
    "q_wrong_types": (
        "Поля с неверным типом (коллекция.поле: записей)",
        "Fields of the wrong type (collection.field: records)",
    ),
    "filters_sheet": ("Фильтры", "Filters"),
    "definition": ("Определение", "Definition"),
    "metric": ("Показатель", "Metric"),
    "value": ("Значение", "Value"),
    "unknown_city": ("(без города)", "(no city)"),
    "total": ("Итого", "Total"),
    "k_leads": ("Лиды", "Leads"),
    "k_contracts": ("Договоры", "Contracts"),
    "k_stuck": ("Застряли", "Stuck"),
    "k_conv_lead_contract": ("Конверсия лид → договор", "Lead → contract"),
    "k_show_rate": ("Явка на консультации", "Show rate"),
    "k_mean_value": ("Средний чек", "Mean contract value"),
    "k_median_c2c": ("Медиана: заявка → договор", "Median: request → contract"),
    "k_median_won": ("Медиана: заявка → реализация", "Median: request → won"),
    "k_median_lead_phone": ("Медиана: лид → номер", "Median: lead → phone"),
    "k_median_first_touch": ("Медиана до 1-го касания", "Median to first touch"),
    "k_p90_first_touch": ("p90 до 1-го касания", "p90 to first touch"),
    "k_untouched": ("Сделок без касаний", "Untouched deals"),
    "k_deals": ("Сделок в периоде", "Deals in period"),
    "k_touches_per_deal": ("Касаний на сделку", "Touches per deal"),
    "k_calls": ("Звонков", "Calls"),
    "k_answered_share": ("Доля отвеченных", "Answered share"),
    "k_overdue": ("Просрочено задач", "Overdue tasks"),
    "k_tasks_per_manager": ("Задач на менеджера", "Tasks per manager"),
    "k_bookings_before": ("Записей до договора (ср.)", "Bookings before contract (mean)"),
    "by_city": ("по городам", "by city"),
    "by_manager": ("по менеджерам", "by manager"),
    "over_time": ("по периодам", "over time"),
    "by_transition": ("по переходам", "by transition"),
    "distribution": ("распределение", "distribution"),
    "mean_bookings": ("Записей в среднем", "Mean bookings"),
    "bookings_axis": ("Записей до договора", "Bookings before contract"),
    "drill_count": ("сделок: {n}", "deals: {n}"),
    "drill_previous": ("период сравнения", "compared period"),
    "drill_cut": ("Показаны первые {n}; в CSV — все.", "Showing the first {n}; the CSV has them all."),
    "note_reconciliation": (
        "Поток = первые входы в этап сделок, созданных в периоде + первые входы более старых сделок + "
        "повторные входы. Когорта = сделки периода, впервые вошедшие в сам этап в периоде + вошедшие после "
        "него + прошедшие этап перескоком (этап засчитан по более позднему)."
        " Первые входы старых сделок, повторы, входы после периода и перескоки объясняют разницу двух воронок.",
        "Flow = first entries into the stage by deals created in the period + first entries by older deals + "
        "re-entries. Cohort = the period's deals that first entered the stage itself in the period + after it + "
        "those that skipped it (the stage counted from a later one)."
        " Older deals, re-entries, entries after the period and skips are why the two funnels differ.",
    ),
}


#: AG Grid's own texts (filter menus, empty grid) in Russian; English is the grid's default.
GRID_LOCALE_RU: dict[str, str] = {
    "noRowsToShow": "Нет строк",
    "filterOoo": "Фильтр…",
    "equals": "Равно",
    "notEqual": "Не равно",
    "blank": "Пусто",
    "notBlank": "Не пусто",
    "lessThan": "Меньше",
    "greaterThan": "Больше",
    "lessThanOrEqual": "Меньше или равно",
    "greaterThanOrEqual": "Больше или равно",
    "inRange": "Между",
    "inRangeStart": "от",
    "inRangeEnd": "до",
    "contains": "Содержит",
    "notContains": "Не содержит",
    "startsWith": "Начинается с",
    "endsWith": "Заканчивается на",
    "andCondition": "И",
    "orCondition": "ИЛИ",
    "applyFilter": "Применить",
    "resetFilter": "Сбросить",
    "clearFilter": "Очистить",
    "cancelFilter": "Отмена",
    "ariaFilterValue": "Значение фильтра",
}


def t(key: str, lang: str, **values: object) -> str:
    """The text for ``key`` in ``lang``; ``{v}``-style placeholders filled from ``values``."""
    ru, en = TEXTS[key]
    text = en if lang == "en" else ru
    return text.format(**values) if values else text


def stage_label(stage: str, lang: str) -> str:
    labels = STAGE_LABELS.get(stage)
    if labels is None:
        return stage
    return labels["en" if lang == "en" else "ru"]


#: Table headers per output column (group columns and the export contract's columns).
COLUMNS: dict[str, tuple[str, str]] = {
    "city": ("Город", "City"),
    "manager": ("Менеджер", "Manager"),
    "channel": ("Канал", "Channel"),
    "group": ("Город / КЦ", "City / CC"),
    "bucket": ("Период", "Period"),
    "package": ("Пакет", "Package"),
    "stage": ("Этап", "Stage"),
    "status": ("Статус", "Status"),
    "reached": ("Дошли", "Reached"),
    "dropped": ("Отвалились", "Dropped"),
    "conv_prev": ("Конв. от пред.", "Conv. from prev."),
    "conv_lead": ("Конв. от лида", "Conv. from lead"),
    "current": ("Сейчас на этапе", "In stage now"),
    "entries": ("Входы", "Entries"),
    "deals": ("Сделки", "Deals"),
    "bookings": ("Записи", "Bookings"),
    "attended": ("Пришли", "Attended"),
    "no_show": ("Не пришли", "No-show"),
    "show_rate": ("Явка", "Show rate"),
    "contract": ("Договор", "Contract"),
    "rate": ("Доля", "Rate"),
    "price_sum": ("Сумма", "Sum"),
    "price_mean": ("Средний чек", "Mean value"),
    "transition": ("Переход", "Transition"),
    "n": ("N", "N"),
    "mean_s": ("Среднее", "Mean"),
    "median_s": ("Медиана", "Median"),
    "p90_s": ("p90", "p90"),
    "untouched": ("Без касаний", "Untouched"),
    "mean": ("Среднее", "Mean"),
    "median": ("Медиана", "Median"),
    "mean_touches": ("Касаний", "Touches"),
    "mean_calls": ("Звонков", "Calls"),
    "mean_sms": ("SMS", "SMS"),
    "mean_answered_s": ("Ср. длит. отвеченных", "Mean answered"),
    "incoming": ("Входящие", "Incoming"),
    "outgoing": ("Исходящие", "Outgoing"),
    "answered": ("Отвеченные", "Answered"),
    "total_duration_s": ("Общая длительность", "Total duration"),
    "created": ("Создано", "Created"),
    "completed": ("Выполнено", "Completed"),
    "overdue": ("Просрочено", "Overdue"),
    "contracts": ("Договоры", "Contracts"),
    "conversion": ("Конверсия", "Conversion"),
    "median_first_touch_s": ("Медиана до 1-го касания", "Median to first touch"),
    "touches_per_deal": ("Касаний на сделку", "Touches per deal"),
    "answered_minutes": ("Минут разговоров", "Answered minutes"),
    "calls": ("Звонки", "Calls"),
    "tasks": ("Задачи", "Tasks"),
    "managers": ("Менеджеров", "Managers"),
    "deals_per_manager": ("Сделок на менеджера", "Deals per manager"),
    "calls_per_manager": ("Звонков на менеджера", "Calls per manager"),
    "tasks_per_manager": ("Задач на менеджера", "Tasks per manager"),
    "threshold_days": ("Порог, дней", "Threshold, days"),
    "open": ("Открыто", "Open"),
    "stuck": ("Застряли", "Stuck"),
    "share_stuck": ("Доля застрявших", "Stuck share"),
    "oldest_days": ("Дольше всех, дней", "Oldest, days"),
    "d0_1": ("0–1 дн.", "0–1 d"),
    "d1_3": ("1–3 дн.", "1–3 d"),
    "d3_7": ("3–7 дн.", "3–7 d"),
    "d7_14": ("7–14 дн.", "7–14 d"),
    "d14_30": ("14–30 дн.", "14–30 d"),
    "d30_90": ("30–90 дн.", "30–90 d"),
    "d90_plus": ("90+ дн.", "90+ d"),
    "check": ("Проверка", "Check"),
    "value": ("Значение", "Value"),
    "flow": ("Поток", "Flow"),
    "deal_id": ("Сделка", "Deal"),
    "created_at": ("Создана", "Created"),
    "stage_entered_at": ("На этапе с", "In stage since"),
    "days_in_stage": ("Дней на этапе", "Days in stage"),
    "first_by_cohort": ("Первый вход, сделки периода", "First entry, deals of the period"),
    "first_by_older": ("Первый вход, более старые сделки", "First entry, older deals"),
    "repeat": ("Повторные входы", "Re-entries"),
    "cohort": ("Когорта", "Cohort"),
    "cohort_in_period": ("Вход в этап в периоде", "Entered the stage in the period"),
    "cohort_after": ("Вход в этап после периода", "Entered the stage after the period"),
    "implied": ("Перескок этапа", "Stage skipped"),
    "share_within_7d": ("Доля за 7 дней", "Share within 7 days"),
}


def column_label(col: str, lang: str) -> str:
    """A column's header; a compared period's column (``<col>_prev``) is «<header>, было»."""
    if col not in COLUMNS and col.endswith("_prev") and col.removesuffix("_prev") in COLUMNS:
        return f"{column_label(col.removesuffix('_prev'), lang)}, {t('prev_header', lang)}"
    ru, en = COLUMNS.get(col, (col, col))
    return en if lang == "en" else ru


def transition_label(value: str, lang: str) -> str:
    """``lead→phone`` as ``Лид → Номер получен``."""
    parts = str(value).split("→")
    return " → ".join(stage_label(p, lang) for p in parts) if len(parts) == 2 else str(value)
