"""Browser fixtures: the app served on a free loopback port, Chromium driven by Playwright.

Chromium comes from `CHROMIUM_PATH` or the system (`/usr/bin/chromium`); Playwright's own
download is never used. Without Chromium the browser tests are skipped, unless
`REQUIRE_BROWSER=1`, which turns that into a failure (CI sets it).
"""
import os
import re
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parents[1] / "test-artifacts" / "screenshots"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Root in a container, no network: no sandbox, no GPU, no call home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
TIMEOUT_MS = 5_000
REPORTS = pytest.StashKey[dict]()
# werkzeug's development server skips closing a response when the browser resets the connection
# while the server drains it (serving.py, `execute`): Chromium does so when it drops a favicon
# request on navigating away, and the static file is left to the collector. Only this test
# server does it (production runs gunicorn), so that one warning is not the application's.
# (The message's own colon is matched by "." : a colon would end the filter's message field.)
STATIC_FILE_LEFT_OPEN = ("ignore:Exception ignored in. <_io.FileIO name='[^']*/static/"
                         ":pytest.PytestUnraisableExceptionWarning")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects, so `-m "not browser"` sees the mark
def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
            # The live server answers from its own threads, each with its own connection: on
            # PostgreSQL they see only committed rows, never a test's rolled-back transaction.
            item.add_marker(pytest.mark.real_commits)
            item.add_marker(pytest.mark.filterwarnings(STATIC_FILE_LEFT_OPEN))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item):
    """Keep each phase's report on the item, so the `page` fixture knows when a test failed."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


def _artifact_name(node) -> str:
    return re.sub(r"[^\w-]+", "-", node.name).strip("-")


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


def _chromium_path() -> str:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if not os.access(configured, os.X_OK):
            _unavailable(f"CHROMIUM_PATH={configured} is not an executable")
        return configured
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        _unavailable("Chromium not found: install it (/usr/bin/chromium) or set CHROMIUM_PATH")
    return found


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=_chromium_path(),
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(app):
    """`app` served by a threaded werkzeug server on 127.0.0.1 and a free port.

    Commit the test's data before requesting it: the server's threads see only what is committed.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class PageErrors:
    """What went wrong in a page: console errors (CSP refusals among them), uncaught exceptions
    and server errors. A test announces the failures it provokes with `expect(pattern)`."""

    def __init__(self):
        self.seen: list[str] = []
        self.expected: list[re.Pattern] = []

    def expect(self, pattern: str) -> None:
        self.expected.append(re.compile(pattern))

    def add(self, text: str) -> None:
        if not any(pattern.search(text) for pattern in self.expected):
            self.seen.append(text)

    def check(self, when: str) -> None:
        assert self.seen == [], f"errors in the browser {when}:\n" + "\n".join(self.seen)


@pytest.fixture
def page_errors():
    return PageErrors()


@pytest.fixture
def page(browser, live_server, page_errors, request):
    """A tab in a fresh context (no cookies shared between tests), relative URLs on the server.
    A failed test leaves `<test>--failed.png` beside the step screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob(f"{_artifact_name(request.node)}--*.png"):
        old.unlink()
    context = browser.new_context(base_url=live_server.url, locale="en-GB",
                                  timezone_id="Europe/Paris",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()

    def on_console(message):
        if message.type == "error":
            page_errors.add(f"console: {message.text} at {message.location.get('url')}")

    def on_response(response):
        if response.status >= 500:
            page_errors.add(f"server: {response.status} on {response.request.method} "
                            f"{response.url}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: page_errors.add(f"uncaught: {error}"))
    tab.on("response", on_response)
    yield tab
    call = request.node.stash.get(REPORTS, {}).get("call")
    if call is not None and call.failed:
        tab.screenshot(path=SCREENSHOTS / f"{_artifact_name(request.node)}--failed.png",
                       full_page=True)
    context.close()
    page_errors.check("during the test")


@pytest.fixture
def snap(page, page_errors, request):
    """`snap("step")`: a full-page screenshot named after the test and the step, after checking
    that the page so far raised no error and runs no inline script (the CSP forbids them)."""
    test = _artifact_name(request.node)
    count = 0

    def take(step: str) -> Path:
        nonlocal count
        count += 1
        page.wait_for_load_state()
        path = SCREENSHOTS / f"{test}--{count:02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        page_errors.check(f"before {step!r}")
        inline = page.locator("script:not([src])").count()
        assert inline == 0, f"{inline} inline script(s) on {page.url}, refused by the CSP"
        return path

    return take
