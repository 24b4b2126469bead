"""Steps the browser tests share."""
from playwright.sync_api import expect

from tests import factories


def sign_in(page, email: str, password: str = factories.PASSWORD) -> None:
    """Through the login form, by its fields' ids: the person may read it in any language."""
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("form[action='/logout'] button")).to_be_visible()


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def fits_the_width(page) -> bool:
    """The loaded page is no wider than the window: nothing scrolls sideways. Call it once the
    page a click led to is shown (an `expect` on it), not while it is still arriving."""
    page.wait_for_load_state()
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
