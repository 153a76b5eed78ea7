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


def table_rows(dash_duo, panel_id: str) -> list[list[str]]:
    """The rows of a panel's table, as text, read in one script call: the table may be re-drawn
    while we read (dcc.Markdown loads lazily), and element handles would go stale."""
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".map(tr => Array.from(tr.querySelectorAll('td')).map(td => td.textContent.trim()));",
        f"{panel_selector('table', panel_id)} tbody tr",
    )


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
    """The names of a panel's chart traces (legend order), read from the plotly element."""
    return dash_duo.driver.execute_script(
        "const el = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        "return el && el.data ? el.data.map(t => t.name) : [];",
        panel_selector("graph", panel_id),
    )
