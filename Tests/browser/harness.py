"""What the headless-Chromium checks share (test_portal.py, test_languages.py): a fresh
`invitelink serve` on 127.0.0.1 seeded through the CLI, and Chromium through chromedriver
saving a screenshot of each page it is asked to."""

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.path.abspath(os.environ.get("INVITELINK", os.path.join(ROOT, ".build/debug/invitelink")))
SHOTS = os.path.join(ROOT, "build", "screenshots")
DOCS = os.path.join(ROOT, "docs")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
# Generous bounds; each run takes well under a minute.
SERVER_START_TIMEOUT = 20
PAGE_TIMEOUT = 15

RESELLER = "Fabrikam Resellers"
PROVIDER = "Northwind Distribution"
CUSTOMER = "Contoso Ltd"
AGENT_EMAIL = "agent@fabrikam.example"
ADMIN_EMAIL = "admin@contoso.example"
AGENT_PASSWORD = "agent-password-2025"
ADMIN_PASSWORD = "contoso-admin-password"


class CheckFailed(Exception):
    """A check's one reason for failing, in words."""


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


class Server:
    """A fresh `invitelink serve` on a free port of 127.0.0.1, seeded through the CLI."""

    def __init__(self, prefix="invitelink-browser-"):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.keys = os.path.join(self.dir, "Keys")
        self.db = os.path.join(self.dir, "db.sqlite")
        self.process = None
        self.log = None
        self.port = None

    def cli(self, *args):
        command = [BINARY, *args, "--keys-dir", self.keys, "--database", "sqlite:" + self.db]
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise CheckFailed(f"`invitelink {' '.join(args)}` exited {result.returncode}: {result.stderr.strip()}")
        return result.stdout.strip().splitlines()

    def seed(self):
        """A key, a reseller connected to a provider, a customer with its admin and the
        reseller's admin agent, both with one-time passwords."""
        self.cli("keys", "rotate", "--alg", "ed25519")
        self.reseller = self.cli("partners", "add", "--name", RESELLER, "--kind", "reseller")[0]
        self.provider = self.cli("partners", "add", "--name", PROVIDER, "--kind", "provider")[0]
        self.cli("partners", "connect", "--reseller", self.reseller, "--provider", self.provider)
        self.customer, self.admin_otp = self.cli(
            "customers", "add", "--name", CUSTOMER, "--domain", "contoso.example", "--admin-email", ADMIN_EMAIL, "--one-time-password")[:2]
        self.agent_otp = self.add_user(AGENT_EMAIL, "admin-agent")

    def add_user(self, email, role):
        """A person of the reseller; their one-time password."""
        return self.cli("users", "add", "--partner", self.reseller, "--email", email, "--role", role, "--one-time-password")[0]

    def start(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.process = subprocess.Popen(
            [BINARY, "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--keys-dir", self.keys, "--database", "sqlite:" + self.db],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CheckFailed(f"the server exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url("/readyz"), timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise CheckFailed(f"the server was not ready within {SERVER_START_TIMEOUT} s")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.log:
            self.log.close()


class Browser:
    """Headless Chromium through chromedriver. `language` sets the browser's own language and
    Accept-Language (`accept_languages`); screenshots are named `<shot_prefix>NAME.png`, or
    numbered in the order taken when there is no prefix."""

    def __init__(self, language=None, accept_languages=None, shot_prefix=None):
        options = Options()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1100,900", "--no-first-run", "--disable-extensions"):
            options.add_argument(argument)
        if language:
            options.add_argument(f"--lang={language}")
        if accept_languages:
            options.add_experimental_option("prefs", {"intl.accept_languages": accept_languages})
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(PAGE_TIMEOUT)
        self.shot_prefix = shot_prefix
        self.count = 0
        self.saved = {}
        os.makedirs(SHOTS, exist_ok=True)

    def shot(self, name):
        """Saves the whole page (the window grown to its height) under build/screenshots/."""
        self.count += 1
        width = self.driver.get_window_size()["width"]
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(width, max(600, min(height + 140, 4000)))
        file = f"{self.shot_prefix}{name}.png" if self.shot_prefix is not None else f"{self.count:02d}-{name}.png"
        path = os.path.join(SHOTS, file)
        self.driver.save_screenshot(path)
        self.driver.set_window_size(width, 900)
        self.saved[name] = path
        return path

    def get(self, url):
        self.driver.get(url)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def has(self, css):
        return len(self.all(css)) > 0

    def text(self):
        return self.find("main").text

    def h1(self):
        return self.find("h1").text

    def lang(self):
        return self.find("html").get_attribute("lang")

    def retrying(self, action):
        """Runs `action` again (up to 3 times) when the page replaced the element under it
        between finding and using it: Chromium reports that as a stale element or as a node
        that "does not belong to the document" (seen right after script execution is toggled)."""
        for attempt in range(3):
            try:
                return action()
            except WebDriverException as error:
                stale = isinstance(error, StaleElementReferenceException) or "does not belong to the document" in str(error)
                if not stale or attempt == 2:
                    raise
                time.sleep(0.2)

    def fill(self, css, value):
        def attempt():
            field = self.find(css)
            field.clear()
            field.send_keys(value)
        self.retrying(attempt)

    def click(self, target, navigates=True):
        """Clicks a CSS selector's element or an element; when that loads a page, waits until
        the old one is gone (a click returns before the next page is there)."""
        old = self.find("html")
        if isinstance(target, str):
            self.retrying(lambda: self.find(target).click())
        else:
            target.click()
        if navigates:
            WebDriverWait(self.driver, PAGE_TIMEOUT).until(lambda _: self.is_gone(old))

    @staticmethod
    def is_gone(element):
        """Whether a page's element has left the document. Asked mid-navigation, Chromium may
        answer "Node with given id does not belong to the document" instead of reporting the
        element stale: that is gone too."""
        try:
            return staleness_of(element)(None)
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise

    def forget_everyone(self):
        """Another person at another computer: no cookies of the previous one, whatever their path
        (WebDriver's delete_all_cookies reaches only those of the current page's path)."""
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})

    def quit(self):
        self.driver.quit()
