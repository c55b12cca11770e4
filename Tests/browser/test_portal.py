#!/usr/bin/env python3
"""The reseller portal and the customer's acceptance pages in a real, headless Chromium.

Starts its own server on 127.0.0.1 with a fresh keyring and SQLite database seeded through the
CLI, then walks the seed flow the way people click it:

  reseller admin agent signs in (one-time password → own password) → Indirect providers →
  Invite new customers → reads the link from the draft email → the customer's global admin
  opens it, signs in, changes the one-time password, accepts, sees both partners named → the
  customer is on the reseller's Customers page with DAP held → the reseller removes the
  relationship behind its confirmation → the customer stays listed as ended, DAP kept (a partner
  global admin is offered to give it up) → the customer's global admin signs in on /account and
  removes the reseller's DAP grant behind its confirmation → the customer leaves the reseller's list.

  Add a new customer: the reseller adds one from the Customers page → its admin opens the setup
  link in another browser, chooses a password, signs in on /account and sees the reseller; the
  same setup link then shows used_up.

Also: an expired and a tampered link each show their explanation; a scanner's GET of the
acceptance page changes no row; a sales agent sees the lists without actions and its POSTs are
refused; a customer cannot sign in to the portal; revoking a link from the Invitations page
stops it at once, and a link still usable offers "Send it again" with the same link; a 30-day
lifetime on the request form shows on the draft; the pages fit a 375 px wide screen.

Every page visited is saved as a PNG under build/screenshots/ (ignored by git); with --docs the
few that the README shows are copied to docs/ as well (`make screenshots`).

Usage: Tests/browser/test_portal.py [--docs]   (env INVITELINK: the binary, default
.build/debug/invitelink). Prints one line per check and closes with "N passed, N failed";
exits non-zero when any check failed. The server is killed whatever happens.
"""

import calendar
import json
import os
import re
import shutil
import signal
import sqlite3
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

import harness
from harness import (ADMIN_EMAIL, ADMIN_PASSWORD, AGENT_EMAIL, AGENT_PASSWORD, CUSTOMER, DOCS, PROVIDER,
                     RESELLER, ROOT, SHOTS, Browser, CheckFailed, expect)

# The screenshots the README shows: (file saved by this run, name under docs/).
DOC_SHOTS = [
    ("portal-draft-email", "portal-draft-email.png"),
    ("accept-signed-in", "acceptance-page.png"),
    ("portal-customers", "portal-customers.png"),
]
RUN_TIMEOUT = 170

NEW_CUSTOMER = "Tailspin Toys"
NEW_DOMAIN = "tailspin.example"
NEW_ADMIN_EMAIL = "admin@tailspin.example"
NEW_ADMIN_PASSWORD = "tailspin-admin-password"
SALES_EMAIL = "sales@fabrikam.example"
GLOBAL_EMAIL = "owner@fabrikam.example"
SALES_PASSWORD = "sales-password-2025"
GLOBAL_PASSWORD = "owner-password-2025"


class Server(harness.Server):
    """harness.Server with a sales agent, a global admin and API credentials besides, and the
    rows an acceptance or removal could touch."""

    def seed(self):
        super().seed()
        self.sales_otp = self.add_user(SALES_EMAIL, "sales-agent")
        self.global_otp = self.add_user(GLOBAL_EMAIL, "global-admin")
        self.provider_secret = self.cli("credentials", "create", "--partner", self.provider, "--role", "global-admin")[0]
        self.reseller_secret = self.cli("credentials", "create", "--partner", self.reseller, "--role", "admin-agent")[0]

    def rows(self):
        """Every row that an acceptance or a removal could touch, to compare before and after."""
        connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return {table: connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                    for table in ("relationships", "acceptances", "dap_grants", "invitations", "audit_log")}
        finally:
            connection.close()

    def api(self, method, path, secret):
        request = urllib.request.Request(self.url(path), method=method, headers={"Authorization": "Bearer " + secret})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


class Flow:
    """The checks, in the order a reseller and a customer meet; later ones use what earlier found."""

    def __init__(self, server, browser):
        self.server = server
        self.browser = browser
        self.link = None
        self.expired_link = None
        self.setup_link = None

    def portal_sign_in(self, email, password, new_password=None, shot_prefix=None):
        b = self.browser
        b.forget_everyone()
        b.get(self.server.url("/portal/sign-in"))
        expect(b.h1() == "Sign in to the partner portal", f"sign-in page heading is {b.h1()!r}")
        if shot_prefix:
            b.shot(f"{shot_prefix}-sign-in")
        b.fill("#email", email)
        b.fill("#password", password)
        b.click("main form button[type=submit]")
        if new_password:
            expect(b.driver.current_url.endswith("/portal/password"),
                   f"a one-time password should lead to /portal/password, not {b.driver.current_url}")
            expect("one-time password" in b.text(), "the password page does not say the password was one-time")
            if shot_prefix:
                b.shot(f"{shot_prefix}-choose-password")
            b.fill("#current", password)
            b.fill("#new", new_password)
            b.click("main form button[type=submit]")
        expect(b.driver.current_url.rstrip("/").endswith("/portal"), f"after sign-in the browser is at {b.driver.current_url}")

    # Reseller: sign in, Indirect providers → Invite new customers → the draft email.
    def check_reseller_requests_two_tier_link(self):
        b = self.browser
        self.portal_sign_in(AGENT_EMAIL, self.server.agent_otp, AGENT_PASSWORD, shot_prefix="portal")
        b.click("nav a[href='/portal/providers']")
        expect(b.h1() == "Indirect providers", f"providers page heading is {b.h1()!r}")
        expect(PROVIDER in b.text(), f"{PROVIDER} is not listed among the indirect providers")
        b.shot("portal-providers")
        b.click(f"input#dap-{self.server.provider}", navigates=False)
        b.click("#providers form button[type=submit]")
        expect(b.h1() == "Draft email", f"after Invite new customers the heading is {b.h1()!r}")
        link_field = b.find("#link")
        expect(link_field.get_attribute("readonly") is not None, "the link field is not read-only")
        self.link = link_field.get_attribute("value")
        expect(self.link.startswith(self.server.url("/invitations/accept?token=")), f"the link is {self.link!r}")
        expect(len(self.link) < 600, f"the link is {len(self.link)} characters long")
        body = b.find("#draft-body").get_attribute("value")
        expect(self.link in body, "the draft email text does not contain the link")
        expect(PROVIDER in body and RESELLER in body, "the draft email does not name both partners")
        expect("must stay" in b.find("label[for=link]").text, "the link is not marked as the part that must stay")
        mailto = b.find("a[href^='mailto:']").get_attribute("href")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(mailto).query)
        expect(self.link in query.get("body", [""])[0], "the mailto: body does not carry the link")
        expect(RESELLER in query.get("subject", [""])[0], "the mailto: subject does not name the reseller")
        b.find("#draft-body").send_keys(Keys.CONTROL + Keys.END + Keys.NULL, "\nKind regards, the Fabrikam team")
        edited = urllib.parse.parse_qs(urllib.parse.urlsplit(b.find("a[href^='mailto:']").get_attribute("href")).query)
        edited_body = edited.get("body", [""])[0]
        expect("Kind regards, the Fabrikam team" in edited_body and self.link in edited_body,
               f"Open in email does not carry the text as edited: {edited_body[-120:]!r}; box ends {b.find('#draft-body').get_attribute('value')[-80:]!r}")
        copy = b.find("button[data-copy=draft-body]")
        expect(copy.is_displayed(), "the Copy button is not shown although JavaScript runs")
        copy.click()
        try:  # the clipboard answers asynchronously
            WebDriverWait(b.driver, 5).until(lambda driver: b.find("#copy-status").text != "")
        except TimeoutException:
            raise CheckFailed("pressing Copy reports nothing")
        done = b.find(".actions a[href='/portal/invitations']")
        expect(done.text == "Done", "there is no Done link")
        b.shot("portal-draft-email")

    # A mail scanner fetches the link before the customer: nothing may change.
    def check_scanner_get_changes_nothing(self):
        expect(self.link, "no link: the reseller check failed")
        before = self.server.rows()
        request = urllib.request.Request(self.link, headers={"User-Agent": "LinkScanner/1.0"})
        with urllib.request.urlopen(request, timeout=10) as response:
            page = response.read().decode()
            expect(response.status == 200, f"the scanner got {response.status}")
            expect(response.headers.get("Referrer-Policy") == "no-referrer", "the acceptance page sends a referrer")
            expect("default-src 'none'" in response.headers.get("Content-Security-Policy", ""), "no Content-Security-Policy")
            expect(response.headers.get("X-Frame-Options") == "DENY", "the acceptance page may be framed")
        expect(RESELLER in page, "the acceptance page does not name the reseller")
        after = self.server.rows()
        changed = [table for table in before if before[table] != after[table]]
        expect(not changed, f"a GET of the acceptance page changed {', '.join(changed)}")

    # Customer admin: open the link, sign in, change the one-time password, accept.
    def check_customer_accepts(self):
        expect(self.link, "no link: the reseller check failed")
        b = self.browser
        b.forget_everyone()
        b.get(self.link)
        text = b.text()
        expect(RESELLER in b.h1(), f"the acceptance page heading is {b.h1()!r}")
        expect(PROVIDER in text, "the acceptance page does not name the indirect provider")
        expect("Requested" in text, "the acceptance page does not say admin privileges are asked")
        expect(b.has("time[datetime]"), "the acceptance page does not say until when the link is valid")
        b.shot("accept-sign-in")
        b.fill("#email", ADMIN_EMAIL)
        b.fill("#password", self.server.admin_otp)
        b.click("main form button[type=submit]")
        expect(b.has("#new"), "after signing in with a one-time password no new password is asked")
        b.fill("#current", self.server.admin_otp)
        b.fill("#new", ADMIN_PASSWORD)
        b.click("main form button[type=submit]")
        accept = b.all("form[action='/invitations/accept'] button")
        expect(accept and accept[0].text == "Accept", "signed in as the customer's global admin, there is no Accept button")
        b.shot("accept-signed-in")
        b.click(accept[0])
        expect(b.h1() == "Invitation accepted", f"after Accept the heading is {b.h1()!r}")
        text = b.text()
        expect(RESELLER in text and PROVIDER in text, f"the confirmation does not name both partners: {text!r}")
        expect("delegated admin" in text, "the confirmation does not mention the delegated admin privileges")
        b.shot("accepted")

    # Reseller: the customer is listed with DAP held, then removed behind a confirmation.
    def check_customer_listed_with_dap(self):
        b = self.browser
        self.portal_sign_in(AGENT_EMAIL, AGENT_PASSWORD)
        rows = b.all(f"details[data-customer-id='{self.server.customer}']")
        expect(rows, f"{CUSTOMER} is not on the reseller's Customers page")
        rows[0].find_element(By.TAG_NAME, "summary").click()
        details = rows[0].text
        expect("Reseller since" in details, f"the row does not show the relationship: {details!r}")
        expect("Held since" in details, f"the row does not show DAP held: {details!r}")
        b.shot("portal-customers")

    def check_remove_relationship(self):
        b = self.browser
        row = b.find(f"details[data-customer-id='{self.server.customer}']")
        if row.get_attribute("open") is None:
            row.find_element(By.TAG_NAME, "summary").click()
        b.click(row.find_element(By.CSS_SELECTOR, "a[href^='/portal/customers/']"))
        expect(b.h1() == CUSTOMER, f"the account view heading is {b.h1()!r}")
        b.shot("portal-customer-account")
        b.click("a.button.danger")
        text = b.text()
        expect(b.h1() == "Remove customer relationship", f"the confirmation heading is {b.h1()!r}")
        expect("Delegated admin privileges stay as they are" in text, "the confirmation does not say DAP stays")
        expect("No notice is sent" in text, "the confirmation does not say no notice is sent")
        expect("good faith" in b.find("#legal-statement").text, "the confirmation does not state what the reseller affirms")
        b.shot("portal-remove-confirm")
        before = self.server.rows()["dap_grants"]
        b.click("main form button.danger")
        expect(b.h1() == "Customer relationship removed", f"after removal the heading is {b.h1()!r}")
        expect("still held by you" in b.text(), "the removal page does not say DAP stays")
        b.shot("portal-removed")
        b.click("a[href='/portal']")
        rows = b.all(f"details[data-customer-id='{self.server.customer}']")
        expect(rows, f"{CUSTOMER} left the Customers page although the reseller keeps DAP")
        rows[0].find_element(By.TAG_NAME, "summary").click()
        details = rows[0].text
        expect("Ended; you keep delegated admin privileges" in details, f"the row does not say the relationship ended, DAP kept: {details!r}")
        expect("Held since" in details and rows[0].find_elements(By.CSS_SELECTOR, "summary .badge"), f"the row does not show DAP held: {details!r}")
        expect(not rows[0].find_elements(By.CSS_SELECTOR, "a[href$='/delegated-admin']"), "an admin agent is offered to give DAP up")
        expect(not rows[0].find_elements(By.CSS_SELECTOR, f"a[href='/portal/customers/{self.server.customer}']"), "an ended relationship still offers its account view")
        b.shot("portal-customers-after-removal")
        expect(self.server.rows()["dap_grants"] == before and before, "the DAP grant changed or was never there")
        reseller_list = self.server.api("GET", "/v1/customers", self.server.reseller_secret)["items"]
        expect(all(item["id"] != self.server.customer for item in reseller_list), "GET /v1/customers still lists the customer for the reseller")
        retained = [item for item in self.server.api("GET", "/v1/customers?include=retained", self.server.reseller_secret)["items"]
                    if item["id"] == self.server.customer]
        expect(retained and retained[0]["relationship_active"] is False and retained[0]["delegated_admin"],
               f"GET /v1/customers?include=retained does not show the retained grant: {retained!r}")
        provider_list = self.server.api("GET", "/v1/customers", self.server.provider_secret)["items"]
        expect(any(item["id"] == self.server.customer for item in provider_list), "the provider lost its relationship too")

    # The Invitations page: the accepted link shows who accepted; a new one is revoked and stops.
    def check_invitations_and_revoke(self):
        b = self.browser
        b.get(self.server.url("/portal/invitations"))
        accepted = b.all("li[data-status=accepted]")
        expect(accepted, "no invitation shows as accepted")
        expect(CUSTOMER in accepted[0].text and ADMIN_EMAIL in accepted[0].text, f"the accepted one does not say by whom: {accepted[0].text!r}")
        b.click("nav a[href='/portal/invitations/new']")
        expect(b.h1() == "Request a reseller relationship", f"the request page heading is {b.h1()!r}")
        b.shot("portal-request")
        b.click("main form button[type=submit]")
        link = b.find("#link").get_attribute("value")
        b.click("a[href='/portal/invitations']")
        pending = b.all("li[data-status=pending]")
        expect(pending, "the new link is not pending")
        b.shot("portal-invitations")
        again = pending[0].find_elements(By.CSS_SELECTOR, "a[href$='/draft']")
        expect(again and again[0].text == "Send it again: open the draft email", "a usable link offers no Send it again")
        b.click(again[0])
        expect(b.h1() == "Draft email" and b.find("#link").get_attribute("value") == link,
               f"Send it again shows {b.h1()!r} with another link")
        b.click("a[href='/portal/invitations']")
        pending = b.all("li[data-status=pending]")
        b.click(pending[0].find_element(By.CSS_SELECTOR, "form button"))
        expect(b.has("p.notice"), "revoking says nothing")
        revoked = b.all("li[data-status=revoked]")
        expect(revoked, "no invitation shows as revoked")
        expect(not revoked[0].find_elements(By.CSS_SELECTOR, "a[href$='/draft']"), "a revoked link still offers Send it again")
        b.shot("portal-invitations-revoked")
        b.get(link)
        expect("withdrawn" in b.text(), f"a revoked link does not explain itself: {b.text()!r}")
        b.shot("link-revoked")

    # A 30-day lifetime chosen on the request form is the one the draft states.
    def check_lifetime_days(self):
        b = self.browser
        b.get(self.server.url("/portal/invitations/new"))
        expect(b.find("#lifetime_days").get_attribute("value") == "14", "the lifetime does not default to 14 days")
        expect(b.has("input#max_uses"), "the request form has no maximum uses")
        b.fill("#lifetime_days", "30")
        b.fill("#max_uses", "1")
        b.click("main form button[type=submit]")
        expect(b.h1() == "Draft email", f"after a 30-day request the heading is {b.h1()!r}")
        stated = b.find("main p[role=status] time[datetime]").get_attribute("datetime")
        expires = calendar.timegm(time.strptime(stated, "%Y-%m-%dT%H:%M:%SZ"))
        expect(abs(expires - (time.time() + 30 * 86400)) < 3600, f"a 30-day link is valid until {stated}")
        b.shot("portal-draft-30-days")

    # A partner global admin is offered to give a retained grant up (confirmation only here).
    def check_global_admin_may_give_up(self):
        b = self.browser
        self.portal_sign_in(GLOBAL_EMAIL, self.server.global_otp, GLOBAL_PASSWORD)
        row = b.find(f"details[data-customer-id='{self.server.customer}']")
        row.find_element(By.TAG_NAME, "summary").click()
        give_up = row.find_elements(By.CSS_SELECTOR, "a[href$='/delegated-admin']")
        expect(give_up and give_up[0].text == "Give up delegated admin privileges", "a global admin is not offered to give DAP up")
        b.shot("portal-customers-global-admin")
        b.click(give_up[0])
        expect(b.h1() == "Give up delegated admin privileges", f"the give-up confirmation heading is {b.h1()!r}")
        expect("leaves your customer list" in b.text(), "the confirmation does not say an ended customer then leaves the list")
        b.shot("portal-give-up-confirm")

    # The customer's global admin, on its own page, removes the reseller's DAP grant.
    def check_customer_removes_dap(self):
        b = self.browser
        b.forget_everyone()
        b.get(self.server.url("/account"))
        expect(b.h1() == "Your organization's partners", f"the account page heading is {b.h1()!r}")
        b.shot("account-sign-in")
        b.fill("#email", ADMIN_EMAIL)
        b.fill("#password", ADMIN_PASSWORD)
        b.click("main form button[type=submit]")
        expect(b.driver.current_url.endswith("/account") and "Signed in as " + ADMIN_EMAIL in b.text(),
               f"after signing in the account page shows {b.text()[:200]!r}")
        rows = {r.find_element(By.TAG_NAME, "td").text.split(" (")[0]: r for r in b.all("main tbody tr")}
        expect(set(rows) == {RESELLER, PROVIDER}, f"the account page lists {sorted(rows)}")
        reseller_cells = [td.text for td in rows[RESELLER].find_elements(By.TAG_NAME, "td")]
        expect(reseller_cells[1].startswith("None") and reseller_cells[2].startswith("Granted"),
               f"the reseller's row does not show an ended relationship with DAP: {reseller_cells!r}")
        expect(rows[PROVIDER].find_elements(By.TAG_NAME, "td")[1].text.startswith("Since"), "the provider's relationship is not shown")
        remove = f"a[href='/account/partners/{self.server.reseller}/remove?what=delegated-admin']"
        expect(b.has(remove), "a global admin is not offered to remove the reseller's DAP")
        b.shot("account")
        b.click(remove)
        expect(b.h1() == "Remove delegated admin privileges", f"the account confirmation heading is {b.h1()!r}")
        expect(RESELLER in b.text(), "the confirmation does not name the reseller")
        b.shot("account-remove-confirm")
        b.click("main form button.danger")
        expect(f"{RESELLER} no longer holds delegated admin privileges" in b.find("p.notice").text, "removing DAP says nothing")
        expect(RESELLER not in b.find("main table").text, "the reseller, holding nothing now, is still listed")
        b.shot("account-dap-removed")
        self.portal_sign_in(AGENT_EMAIL, AGENT_PASSWORD)
        expect(not b.has(f"details[data-customer-id='{self.server.customer}']"),
               f"{CUSTOMER} is still on the reseller's Customers page without relationship or DAP")
        b.shot("portal-customers-after-dap-removed")

    # Add a new customer: its admin follows the setup link and signs in on /account.
    def check_add_new_customer(self):
        b = self.browser
        b.click("main a.button[href='/portal/customers/new']")
        expect(b.h1() == "Add a new customer", f"the add-customer page heading is {b.h1()!r}")
        b.fill("#name", NEW_CUSTOMER)
        b.fill("#domain", NEW_DOMAIN)
        b.fill("#admin_email", NEW_ADMIN_EMAIL)
        b.shot("portal-add-customer")
        b.click("main form button[type=submit]")
        expect(f"{NEW_CUSTOMER} is your customer now" in b.text(), f"after adding a customer the page shows {b.text()[:200]!r}")
        self.setup_link = b.find("input#setup-url").get_attribute("value")
        expect(self.setup_link.startswith(self.server.url("/setup?token=")), f"the setup link is {self.setup_link!r}")
        b.shot("portal-customer-added")
        b.click("main a.button[href='/portal']")
        expect(NEW_CUSTOMER in b.find("#customers").text, f"{NEW_CUSTOMER} is not on the Customers page")
        b.forget_everyone()
        b.get(self.setup_link)
        expect(b.h1() == "Choose your password" and NEW_ADMIN_EMAIL in b.text(), f"the setup page shows {b.h1()!r}")
        b.shot("setup")
        b.fill("input[name=new_password]", NEW_ADMIN_PASSWORD)
        b.click("main form button[type=submit]")
        expect(b.h1() == "Password saved", f"after choosing a password the heading is {b.h1()!r}")
        b.click("main a[href='/account']")
        b.fill("#email", NEW_ADMIN_EMAIL)
        b.fill("#password", NEW_ADMIN_PASSWORD)
        b.click("main form button[type=submit]")
        expect(f"Signed in as {NEW_ADMIN_EMAIL} ({NEW_CUSTOMER})" in b.text(), f"the new admin's account page shows {b.text()[:200]!r}")
        expect(RESELLER in b.find("main table").text, f"the new customer's account page does not name {RESELLER}")
        b.shot("account-new-customer")

    def check_setup_link_used_up(self):
        expect(self.setup_link, "no setup link: the add-customer check failed")
        try:
            urllib.request.urlopen(self.setup_link, timeout=10)
            raise CheckFailed("a used setup link answered 200")
        except urllib.error.HTTPError as error:
            expect(error.code == 409, f"a used setup link answered {error.code}")
        b = self.browser
        b.get(self.setup_link)
        expect("Reason code: used_up" in b.text(), f"a used setup link shows {b.text()!r}")
        b.shot("setup-used-up")

    def check_expired_link(self):
        b = self.browser
        expect(self.expired_link, "no expired link was minted")
        b.get(self.expired_link)
        expect("This link has expired" in b.text(), f"an expired link shows {b.text()!r}")
        expect("expired" in b.find("code").text, "the reason code is not shown")
        b.shot("link-expired")

    def check_tampered_link(self):
        expect(self.link, "no link: the reseller check failed")
        b = self.browser
        head, signature = self.link.rsplit(".", 1)
        middle = len(signature) // 2
        swapped = "A" if signature[middle] != "A" else "B"
        b.get(head + "." + signature[:middle] + swapped + signature[middle + 1:])
        expect("altered and cannot be trusted" in b.text(), f"a tampered link shows {b.text()!r}")
        b.shot("link-tampered")

    # Sales agents read but do not act; their POSTs are refused even when forged.
    def check_sales_agent_sees_no_actions(self):
        b = self.browser
        self.portal_sign_in(SALES_EMAIL, self.server.sales_otp, SALES_PASSWORD)
        expect(not b.has("a[href='/portal/customers/new']"), "a sales agent is offered Add a new customer")
        expect(not b.has("nav a[href='/portal/invitations/new']"), "a sales agent is offered Request a reseller relationship")
        b.get(self.server.url("/portal/providers"))
        expect(PROVIDER in b.text() and not b.has("main form"), "a sales agent sees an Invite new customers form")
        b.get(self.server.url("/portal/invitations"))
        expect(b.has("li[data-invitation-id]") and not b.has("main form"), "a sales agent sees no list or a Revoke form")
        b.shot("portal-invitations-sales-agent")
        status, page = self.post_as_browser("/portal/invitations", {"provider_id": "", "dap": "on"})
        expect(status == 403, f"a sales agent's POST /portal/invitations answered {status}")
        expect("Not allowed for your role" in page, "the 403 page does not say why")
        b.get(self.server.url("/portal/invitations/new"))
        expect(b.h1() == "Not allowed for your role", f"a sales agent opening the request page sees {b.h1()!r}")
        b.shot("portal-forbidden")

    def post_as_browser(self, path, fields):
        """A POST carrying the browser's cookies and CSRF token, as a forged form would."""
        cookies = {c["name"]: c["value"] for c in self.browser.driver.get_cookies()}
        # The token is bound to the session: take it from a form of the page the browser shows.
        tokens = self.browser.driver.execute_script(
            "return Array.from(document.querySelectorAll('input[name=csrf]')).map(e => e.value)")
        fields = dict(fields, csrf=tokens[0] if tokens else "")
        request = urllib.request.Request(
            self.server.url(path), data=urllib.parse.urlencode(fields).encode(), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def check_post_without_csrf_refused(self):
        b = self.browser
        self.portal_sign_in(AGENT_EMAIL, AGENT_PASSWORD)
        cookies = {c["name"]: c["value"] for c in b.driver.get_cookies()}
        request = urllib.request.Request(
            self.server.url("/portal/invitations"), data=b"provider_id=&csrf=not-the-token", method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
        try:
            urllib.request.urlopen(request, timeout=10)
            raise CheckFailed("a POST with a wrong CSRF token was accepted")
        except urllib.error.HTTPError as error:
            expect(error.code == 403, f"a POST with a wrong CSRF token answered {error.code}")

    def check_customer_cannot_enter_portal(self):
        b = self.browser
        b.forget_everyone()
        b.get(self.server.url("/portal/sign-in"))
        b.fill("#email", ADMIN_EMAIL)
        b.fill("#password", ADMIN_PASSWORD)
        b.click("main form button[type=submit]")
        expect("customer organization" in b.text(), f"a customer's sign-in to the portal shows {b.text()!r}")
        b.get(self.server.url("/portal"))
        expect(b.driver.current_url.endswith("/portal/sign-in"), "a customer reached the portal")
        b.shot("portal-customer-refused")

    def check_partner_cannot_accept(self):
        b = self.browser
        b.forget_everyone()
        b.get(self.link)
        b.fill("#email", AGENT_EMAIL)
        b.fill("#password", AGENT_PASSWORD)
        b.click("main form button[type=submit]")
        expect(not b.has("form[action='/invitations/accept']"), "a partner user is offered Accept")
        expect("not a global admin of a customer tenant" in b.text(), "the page does not say why a partner cannot accept")

    def check_phone_width(self):
        b = self.browser
        self.portal_sign_in(AGENT_EMAIL, AGENT_PASSWORD)
        b.driver.set_window_size(375, 812)
        try:
            overflowing = []
            for path in ("/portal", "/portal/providers", "/portal/invitations", "/portal/invitations/new", "/portal/customers/new"):
                b.get(self.server.url(path))
                # The viewport's inner width is smaller than the window's; compare with it.
                scroll, inner = b.driver.execute_script(
                    "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
                if scroll > inner:
                    overflowing.append(f"{path} ({scroll} > {inner} px)")
                b.shot("phone-" + (path.strip("/").replace("/", "-")))
            expect(not overflowing, "wider than a phone screen: " + ", ".join(overflowing))
        finally:
            b.driver.set_window_size(1100, 900)

    def check_works_without_javascript(self):
        b = self.browser
        b.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        try:
            self.portal_sign_in(AGENT_EMAIL, AGENT_PASSWORD)
            b.get(self.server.url("/portal/invitations/new"))
            b.click("main form button[type=submit]")
            expect(b.h1() == "Draft email", f"without JavaScript, creating a link leads to {b.h1()!r}")
            link = b.find("#link").get_attribute("value")
            expect("/invitations/accept?token=" in link, "without JavaScript the link field is empty")
            expect(not b.find("button[data-copy=draft-body]").is_displayed(), "without JavaScript a dead Copy button is shown")
            b.shot("portal-draft-email-no-javascript")
        finally:
            b.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
            b.get("about:blank")  # let the toggle settle before the next check loads a page

    def check_sign_out(self):
        b = self.browser
        self.portal_sign_in(AGENT_EMAIL, AGENT_PASSWORD)
        b.click("header form[action='/portal/sign-out'] button")
        expect(b.driver.current_url.endswith("/portal/sign-in"), f"after Sign out the browser is at {b.driver.current_url}")
        b.get(self.server.url("/portal/invitations"))
        expect(b.driver.current_url.endswith("/portal/sign-in"), "after Sign out the Invitations page still opens")

    def check_focus_is_visible(self):
        b = self.browser
        b.get(self.server.url("/portal"))
        for _ in range(3):  # the skip link, then the navigation, as the keyboard reaches them
            ActionChains(b.driver).send_keys(Keys.TAB).perform()
            focused = b.driver.switch_to.active_element
            outline = b.driver.execute_script("return getComputedStyle(arguments[0]).outlineStyle", focused)
            expect(outline not in ("none", ""), f"the focused {focused.tag_name} {focused.text!r} has no visible outline")
        expect(focused.tag_name == "a", f"Tab reached a {focused.tag_name} before the navigation links")


class OutOfTime(BaseException):
    """The run's own bound (RUN_TIMEOUT) passed: not an Exception, so no check swallows it."""


def main():
    update_docs = "--docs" in sys.argv[1:]
    # Stopped by `timeout` or out of time: unwind through the finally below, which ends the
    # browser and the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def out_of_time(*_):
        raise OutOfTime(f"the run took longer than {RUN_TIMEOUT} s")
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(RUN_TIMEOUT)
    started = time.monotonic()
    if os.path.isdir(SHOTS):
        shutil.rmtree(SHOTS)
    server = Server()
    browser = None
    passed, failed = 0, 0
    try:
        server.seed()
        # Minted now, opened after the flow: by then its one second has long passed.
        expired = server.cli("links", "create", "--reseller", server.reseller, "--ttl", "1s")[0]
        server.start()
        # The CLI knows no port yet: the link is rebuilt on the server's own address.
        browser = Browser()
        flow = Flow(server, browser)
        flow.expired_link = server.url("/invitations/accept?token=" + expired.split("token=", 1)[1])
        checks = [
            ("reseller signs in and requests a two-tier link from Indirect providers", flow.check_reseller_requests_two_tier_link),
            ("a scanner's GET of the acceptance page changes no row", flow.check_scanner_get_changes_nothing),
            ("customer admin signs in, changes the one-time password and accepts", flow.check_customer_accepts),
            ("the customer is on the reseller's Customers page with DAP held", flow.check_customer_listed_with_dap),
            ("removing the relationship leaves the customer listed as ended; DAP stays", flow.check_remove_relationship),
            ("Invitations shows who accepted; Send it again; Revoke stops a link at once", flow.check_invitations_and_revoke),
            ("a 30-day lifetime on the request form is the draft's expiry", flow.check_lifetime_days),
            ("a partner global admin is offered to give a retained DAP grant up", flow.check_global_admin_may_give_up),
            ("the customer removes the reseller's DAP on /account; the reseller's list drops it", flow.check_customer_removes_dap),
            ("Add a new customer: its admin follows the setup link and signs in on /account", flow.check_add_new_customer),
            ("a used setup link shows used_up (409)", flow.check_setup_link_used_up),
            ("an expired link explains itself", flow.check_expired_link),
            ("a tampered link explains itself", flow.check_tampered_link),
            ("a sales agent sees the lists but no action; its POST is refused", flow.check_sales_agent_sees_no_actions),
            ("a POST without the CSRF token is refused", flow.check_post_without_csrf_refused),
            ("a customer's user cannot sign in to the portal", flow.check_customer_cannot_enter_portal),
            ("a partner's user cannot accept an invitation", flow.check_partner_cannot_accept),
            ("portal pages fit a 375 px wide screen", flow.check_phone_width),
            ("keyboard focus is visible", flow.check_focus_is_visible),
            ("the portal works without JavaScript; Copy then stays hidden", flow.check_works_without_javascript),
            ("Sign out ends the portal session", flow.check_sign_out),
        ]
        for name, check in checks:
            try:
                check()
                passed += 1
                print(f"ok     {name}")
            except Exception as error:  # one failing check must not hide the others
                failed += 1
                reason = str(error) if isinstance(error, CheckFailed) else traceback.format_exc(limit=3)
                print(f"FAILED {name}: {reason}")
                try:
                    browser.shot("FAILED-" + re.sub(r"[^a-z0-9]+", "-", name.lower())[:40])
                except Exception:
                    pass
    except OutOfTime as error:
        failed += 1
        print(f"FAILED {error}")
    except Exception as error:
        failed += 1
        print(f"FAILED setting up: {error}")
        traceback.print_exc()
    finally:
        signal.alarm(0)
        if browser:
            browser.quit()
        server.stop()
        if failed and server.log:
            print(f"server log kept in {server.log.name}")
        else:
            shutil.rmtree(server.dir, ignore_errors=True)
    if update_docs and not failed:
        os.makedirs(DOCS, exist_ok=True)
        for source, target in DOC_SHOTS:
            shutil.copyfile(browser.saved[source], os.path.join(DOCS, target))
            print(f"docs/{target} updated")
    print(f"screenshots in {os.path.relpath(SHOTS, ROOT)}/ ({time.monotonic() - started:.1f} s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
