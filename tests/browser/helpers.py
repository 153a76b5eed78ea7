"""Small helpers for driving the report in a real browser (Dash 4 dropdowns are Radix popovers)."""

from __future__ import annotations

from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait


def wait_until(dash_duo, condition, what: str, timeout: float = 30):
    """Wait for ``condition(driver)`` to be truthy; the message says what never happened."""
    return WebDriverWait(dash_duo.driver, timeout).until(condition, message=f"timed out waiting for {what}")


def choose(dash_duo, dropdown_id: str, option_text: str) -> None:
    """Open a dropdown, click the option with this text, close the popover."""
    dash_duo.find_element(f"#{dropdown_id}").click()
    xpath = f"//*[@role='option'][.//span[normalize-space(text())='{option_text}']]"
    wait_until(dash_duo, lambda d: d.find_elements(By.XPATH, xpath), f"option {option_text!r} of #{dropdown_id}")
    dash_duo.driver.find_element(By.XPATH, xpath).click()
    dash_duo.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)


def url_contains(dash_duo, text: str) -> None:
    wait_until(dash_duo, lambda d: text in d.current_url, f"the URL to contain {text!r}")


def url_is(dash_duo, expected: str) -> None:
    wait_until(dash_duo, lambda d: d.current_url == expected, f"the URL to be {expected!r}")


GRID_ROWS_JS = """
let api;
try { api = window.dash_ag_grid.getApi(arguments[0]); } catch (e) { return null; }
if (!api || api.isDestroyed()) { return null; }
const cols = api.getAllDisplayedColumns();
const rows = [];
const text = (node) => cols.map(c => String(api.getCellValue({rowNode: node, colKey: c, useFormatter: true}) ?? ''));
api.forEachNodeAfterFilterAndSort(node => rows.push(text(node)));
if (arguments[1]) {
  for (let i = 0; i < api.getPinnedBottomRowCount(); i++) { rows.push(text(api.getPinnedBottomRow(i))); }
}
return rows;
"""


REVEAL_JS = """
const card = document.querySelector(arguments[0]);
if (card && card.querySelector('.panel-placeholder')) { card.scrollIntoView({block: 'center'}); }
"""


def reveal(dash_duo, panel_id: str) -> None:
    """Scroll a panel's card into view while it still waits to be drawn, as a reader does: panels
    are drawn when they come into view (assets/lazyPanels.js)."""
    dash_duo.driver.execute_script(REVEAL_JS, panel_selector("panel", panel_id))


def grid_rows(dash_duo, panel_id: str, footer: bool = False) -> list[list[str]] | None:
    """The rows of a panel's grid as the user sees them (after sorting and filtering, formatted),
    read through the grid's API in one script call: the grid draws only the rows in view, so the
    DOM does not hold them all. None while the grid is not ready; ``footer`` adds the totals row."""
    reveal(dash_duo, panel_id)
    return dash_duo.driver.execute_script(GRID_ROWS_JS, {"panel": panel_id, "type": "table"}, footer)


def table_rows(dash_duo, panel_id: str, footer: bool = False) -> list[list[str]]:
    """The grid's rows once it has drawn some (it renders after the page callback returns)."""
    return wait_until(dash_duo, lambda d: grid_rows(dash_duo, panel_id, footer), f"the rows of the {panel_id} grid")


def panel_selector(kind: str, panel_id: str) -> str:
    """CSS selector of a pattern-matching id (Dash writes it as compact JSON with sorted keys)."""
    return f'[id=\'{{"panel":"{panel_id}","type":"{kind}"}}\']'


def button_selector(panel_id: str, fmt: str) -> str:
    return f'[id=\'{{"fmt":"{fmt}","panel":"{panel_id}","type":"dl-btn"}}\']'


def click(dash_duo, selector: str) -> None:
    """Scroll an element into view and click it, retrying while late-rendering content moves it."""

    def attempt(driver) -> bool:
        element = dash_duo.find_element(selector)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        try:
            element.click()
        except ElementClickInterceptedException:
            return False
        return True

    wait_until(dash_duo, attempt, f"a clickable {selector}")


def trace_names(dash_duo, panel_id: str) -> list[str]:
    """The names of a panel's chart traces that draw something (legend order), read from the plotly
    element; a legend-only key (e.g. «неполный период») is not a series."""
    reveal(dash_duo, panel_id)
    return dash_duo.driver.execute_script(
        "const el = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        "const drawn = t => (t.x || []).some(v => v !== null) || (t.y || []).some(v => v !== null);"
        "return el && el.data ? el.data.filter(drawn).map(t => t.name) : [];",
        panel_selector("graph", panel_id),
    )


GROUPS_JS = """
const el = document.querySelector(arguments[0] + ' .js-plotly-plot');
if (!el || !el.data) { return null; }
const across = el.data.some(t => t.orientation === 'h' || t.type === 'heatmap');
if (!across) { return el.data.filter(t => t.x && t.x.some(v => v !== null)).map(t => t.name); }
const seen = new Set();
el.data.forEach(t => (t.y || []).forEach(v => { if (v !== null) { seen.add(v); } }));
return Array.from(seen);
"""


def drawn_groups(dash_duo, panel_id: str) -> list[str] | None:
    """The groups a panel's chart draws: the bars' or heat map's rows across, else one trace per
    group (stacked bars, lines over time); None while the chart is not drawn."""
    reveal(dash_duo, panel_id)
    return dash_duo.driver.execute_script(GROUPS_JS, panel_selector("graph", panel_id))
