#!/usr/bin/env python3
"""The acceptance page and the portal in Spanish and in English, in a real, headless Chromium.

Starts its own server on 127.0.0.1 with a fresh keyring and SQLite database seeded through the
CLI (the same start-up as test_portal.py), then:

  a browser whose language is Spanish (Chromium --lang=es, intl.accept_languages es-ES) gets
  every page in Spanish from Accept-Language alone: the portal's sign-in, first password and
  customer list, the request form (the email's language defaults to the portal's), the draft
  email in Spanish with its date and time zone (and in English from the draft's own language
  switch, the page staying Spanish), the acceptance page, its sign-in, password change, Accept
  and the confirmation;
  a browser whose language is English gets the pages in English, then the switch on the page
  (`/language`) turns the same page Spanish and back, keeping its address;
  an API problem asked for with Accept-Language: es has a Spanish title and the same code.

`<html lang>` is checked on every page. Screenshots go to build/screenshots/ as lang-*.png
(test_portal.py's own stay); with --docs the Spanish acceptance page is copied to
docs/acceptance-page-es.png for the README.

Usage: Tests/browser/test_languages.py [--docs]   (env INVITELINK: the binary, default
.build/debug/invitelink). Prints one line per check and closes with "N passed, N failed";
exits non-zero when any check failed. Bounded to RUN_TIMEOUT seconds; the server is killed
whatever happens.
"""

import glob
import json
import os
import re
import shutil
import signal
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

from selenium.webdriver.support.ui import Select

import harness
from harness import (ADMIN_EMAIL, ADMIN_PASSWORD, AGENT_EMAIL, AGENT_PASSWORD, DOCS, PROVIDER,
                     RESELLER, ROOT, SHOTS, CheckFailed, Server, expect)

# The screenshot the README shows: (file saved by this run, name under docs/).
DOC_SHOTS = [("es-accept-signed-in", "acceptance-page-es.png")]
RUN_TIMEOUT = 90


class OutOfTime(BaseException):
    """The run's own bound (RUN_TIMEOUT) passed: not an Exception, so no check swallows it."""


def Browser(language, accept_languages):
    """Chromium in one language; its pages are saved as build/screenshots/lang-NAME.png."""
    return harness.Browser(language, accept_languages, shot_prefix="lang-")


def expect_page(b, lang, heading, *texts):
    """The page is in `lang` (`<html lang>`), has `heading` as its h1 and shows every text."""
    expect(b.lang() == lang, f"<html lang> is {b.lang()!r}, wanted {lang!r} (at {b.driver.current_url})")
    expect(b.h1() == heading, f"the heading is {b.h1()!r}, wanted {heading!r}")
    body = b.find("body").text
    for text in texts:
        expect(text in body, f"the page ({heading!r}) does not show {text!r}")


class Flow:
    def __init__(self, server):
        self.server = server
        self.spanish = None
        self.english = None
        self.link = None

    # A browser whose language is Spanish, by Accept-Language alone.
    def check_portal_in_spanish(self):
        b = self.spanish = Browser("es", "es-ES,es")
        b.get(self.server.url("/portal/sign-in"))
        expect_page(b, "es", "Iniciar sesión en el portal para partners", "Correo electrónico", "Contraseña")
        b.shot("es-portal-sign-in")
        b.fill("#email", AGENT_EMAIL)
        b.fill("#password", self.server.agent_otp)
        b.click("main form button[type=submit]")
        expect_page(b, "es", "Elija su contraseña", "contraseña de un solo uso")
        b.fill("#current", self.server.agent_otp)
        b.fill("#new", AGENT_PASSWORD)
        b.click("main form button[type=submit]")
        expect_page(b, "es", "Clientes", "agente administrador de " + RESELLER, "Proveedores indirectos",
                    "Solicitar una relación de revendedor")
        b.shot("es-portal-customers")

    def check_draft_email_in_spanish(self):
        b = self.spanish
        b.click("nav a[href='/portal/invitations/new']")
        expect_page(b, "es", "Solicitar una relación de revendedor", "Proveedor indirecto (opcional)",
                    "Solicitar privilegios de administrador delegado", "Idioma del correo electrónico")
        language = Select(b.find("#language"))
        expect(language.first_selected_option.get_attribute("value") == "es",
               "the email's language does not default to the portal's (Spanish)")
        Select(b.find("#provider")).select_by_value(self.server.provider)
        b.find("#dap").click()
        b.shot("es-portal-request")
        b.click("main form button[type=submit]")
        expect_page(b, "es", "Borrador del correo electrónico", "Su vínculo de invitación está listo, junto con " + PROVIDER,
                    "Vínculo personalizado")
        body = b.find("#draft-body").get_attribute("value")
        subject = b.find("#subject").get_attribute("value")
        expect(subject == f"{RESELLER} y {PROVIDER} le invitan a una relación de revendedor", f"the subject is {subject!r}")
        for text in ("Hola:", "proveedor indirecto " + PROVIDER, "privilegios de administrador delegado (DAP)",
                     "Un administrador global de su organización", "Saludos cordiales,"):
            expect(text in body, f"the Spanish email lacks {text!r}")
        expect(re.search(r"válido hasta el \d{1,2} de [a-z]+ de \d{4}, \d\d:\d\d UTC\.", body),
               f"the email's date is not written the Spanish way with its zone: {body!r}")
        expiry = b.find("main p[role=status] time")
        expect(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", expiry.get_attribute("datetime") or ""),
               "the expiry's <time datetime> is not RFC 3339")
        expect(expiry.text.endswith(" UTC") and " de " in expiry.text, f"the page's expiry reads {expiry.text!r}")
        self.link = b.find("#link").get_attribute("value")
        expect(self.link.startswith(self.server.url("/invitations/accept?token=")), f"the link is {self.link!r}")
        b.shot("es-portal-draft-email")
        # The draft's own switch writes the email in English; the page stays Spanish.
        b.click("main a[hreflang=en]")
        expect(b.lang() == "es", "switching the email's language changed the page's")
        english = b.find("#draft-body").get_attribute("value")
        expect(f"{RESELLER} would like to become your cloud reseller" in english, f"the English email reads {english[:160]!r}")
        expect(self.link in english, "the English email lost the link")

    def check_acceptance_in_spanish(self):
        expect(self.link, "no link: the draft check failed")
        b = self.spanish
        b.forget_everyone()
        b.get(self.link)
        expect_page(b, "es", f"{RESELLER} le invita a una relación de revendedor", "Quién lo solicita",
                    "Proveedor indirecto", "(si acepta, pasará a ser cliente de ambos)",
                    "Solicitados: " + RESELLER, "Vínculo válido hasta",
                    "Inicie sesión como administrador global de su organización")
        until = b.find("dd time")
        expect(until.text.endswith(" UTC") and " de " in until.text, f"the link's expiry reads {until.text!r}")
        b.shot("es-accept-sign-in")
        b.fill("#email", ADMIN_EMAIL)
        b.fill("#password", "not the password")
        b.click("main form button[type=submit]")
        expect("El correo electrónico o la contraseña no son correctos." in b.text(), "a wrong password is not refused in Spanish")
        b.fill("#email", ADMIN_EMAIL)
        b.fill("#password", self.server.admin_otp)
        b.click("main form button[type=submit]")
        expect("Elija una contraseña nueva" in b.text(), "the password change is not asked in Spanish")
        b.fill("#current", self.server.admin_otp)
        b.fill("#new", ADMIN_PASSWORD)
        b.click("main form button[type=submit]")
        buttons = b.all("form[action='/invitations/accept'] button")
        expect(buttons and buttons[0].text == "Aceptar", "there is no Aceptar button")
        expect(f"Ha iniciado sesión como {ADMIN_EMAIL}" in b.text(), "the accept form does not say who is signed in, in Spanish")
        b.shot("es-accept-signed-in")
        b.click("form[action='/invitations/accept'] button")
        expect_page(b, "es", "Invitación aceptada", "Su organización es ahora cliente de:",
                    f"{RESELLER} (revendedor)", f"{PROVIDER} (proveedor indirecto)",
                    "tiene privilegios de administrador delegado en su inquilino")
        b.shot("es-accepted")

    # A browser whose language is English; the switch on the page turns it Spanish and back.
    def check_english_and_the_switch(self):
        expect(self.link, "no link: the draft check failed")
        b = self.english = Browser("en-US", "en-US,en")
        b.get(self.link)
        expect_page(b, "en", f"{RESELLER} invites you to a reseller relationship", "Who is asking", "Link valid until")
        until = b.find("dd time").text
        expect(re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4}, \d\d:\d\d UTC", until), f"the English expiry reads {until!r}")
        b.shot("en-accept")
        b.click("nav.languages a[hreflang=es]")
        expect(b.driver.current_url == self.link, f"the switch did not come back to the link: {b.driver.current_url}")
        expect_page(b, "es", f"{RESELLER} le invita a una relación de revendedor", "Quién lo solicita")
        expect(b.find("nav.languages a[aria-current]").text == "Español", "the switch does not mark Español as current")
        b.shot("switched-es-accept")
        b.get(self.server.url("/portal/sign-in"))
        expect_page(b, "es", "Iniciar sesión en el portal para partners")  # the cookie holds across pages
        b.click("nav.languages a[hreflang=en]")
        expect_page(b, "en", "Sign in to the partner portal", "For the staff of a reseller or provider.")
        b.get(self.server.url("/account"))
        expect_page(b, "en", "Your organization's partners", "Sign in")
        b.shot("en-account")

    def check_api_problem_in_spanish(self):
        titles = {}
        for language in ("es", "en"):
            request = urllib.request.Request(self.server.url("/v1/invitations"), headers={"Accept-Language": language})
            try:
                urllib.request.urlopen(request, timeout=10)
                raise CheckFailed("GET /v1/invitations without a credential succeeded")
            except urllib.error.HTTPError as error:
                problem = json.loads(error.read())
                expect(error.code == 401 and problem["code"] == "unauthorized", f"{language}: {error.code} {problem}")
                titles[language] = problem["title"]
        expect(titles == {"es": "No autorizado", "en": "Unauthorized"}, f"the problem titles are {titles}")


def main():
    update_docs = "--docs" in sys.argv[1:]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def out_of_time(*_):
        raise OutOfTime(f"the run took longer than {RUN_TIMEOUT} s")
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(RUN_TIMEOUT)
    started = time.monotonic()
    # Only this script's own screenshots are replaced: test_portal.py's stay beside them.
    os.makedirs(SHOTS, exist_ok=True)
    for old in glob.glob(os.path.join(SHOTS, "lang-*.png")):
        os.remove(old)
    server = Server(prefix="invitelink-languages-")
    flow = Flow(server)
    passed, failed = 0, 0
    try:
        server.seed()
        server.start()
        checks = [
            ("a Spanish browser gets the portal in Spanish: sign-in, first password, Customers", flow.check_portal_in_spanish),
            ("the request form defaults to a Spanish email; the draft is Spanish with its date and zone",
             flow.check_draft_email_in_spanish),
            ("the customer reads, signs in and accepts in Spanish", flow.check_acceptance_in_spanish),
            ("an English browser gets English; the switch turns the same page Spanish and back",
             flow.check_english_and_the_switch),
            ("an API problem asked in Spanish has a Spanish title and the same code", flow.check_api_problem_in_spanish),
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
                for browser in (flow.spanish, flow.english):
                    try:
                        if browser:
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
        for browser in (flow.spanish, flow.english):
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
            shutil.copyfile(flow.spanish.saved[source], os.path.join(DOCS, target))
            print(f"docs/{target} updated")
    print(f"screenshots in {os.path.relpath(SHOTS, ROOT)}/lang-*.png ({time.monotonic() - started:.1f} s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
