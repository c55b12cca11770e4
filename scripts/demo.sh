#!/usr/bin/env bash
# Seeds a demo reseller, a provider it is connected to and a customer with a global admin
# (once; the credentials are kept in Data/demo.txt, mode 0600), makes sure a primary signing
# key exists, and prints what a newcomer needs: a reseller credential, the customer admin's
# sign-in and a fresh two-tier invitation link. Used by `make run`.
set -euo pipefail
bin=${INVITELINK:-.build/debug/invitelink}
mkdir -p Data
chmod 700 Data

if ! "$bin" keys list --json | grep -q '"state": "primary"'; then
  kid=$("$bin" keys rotate --alg ed25519)
  echo "Created the dev signing key $kid (Ed25519, primary) in Keys/."
fi

if [ ! -s Data/demo.txt ]; then
  umask 077
  "$bin" partners add --id demo-reseller --name "Fabrikam Reseller" --kind reseller >/dev/null
  "$bin" partners add --id demo-provider --name "Contoso Distribution" --kind provider >/dev/null
  "$bin" partners connect --reseller demo-reseller --provider demo-provider >/dev/null
  customer=$("$bin" customers add --id demo-customer --name "Adatum Corporation" --domain adatum.example \
    --admin-email admin@adatum.example --one-time-password)
  password=$(echo "$customer" | sed -n 2p)
  reseller_secret=$("$bin" credentials create --partner demo-reseller --role admin-agent 2>/dev/null)
  customer_secret=$("$bin" credentials create --customer demo-customer --role global-admin 2>/dev/null)
  agent_password=$("$bin" users add --partner demo-reseller --email agent@fabrikam.example --role admin-agent --one-time-password)
  cat >Data/demo.txt <<TXT
Reseller API credential (admin agent of demo-reseller):  $reseller_secret
Customer API credential (global admin of demo-customer): $customer_secret
Reseller portal sign-in (http://127.0.0.1:8080/portal):  agent@fabrikam.example  one-time password: $agent_password
Customer admin sign-in:  admin@adatum.example  one-time password: $password
  (one-time passwords last until the first sign-in, which asks for a new one of at least 12 characters)
TXT
fi

link=$("$bin" links create --reseller demo-reseller --provider demo-provider --dap)
echo
echo "== InviteLink demo =========================================================="
cat Data/demo.txt
echo
echo "A fresh two-tier invitation link (reseller + provider, asks for delegated admin):"
echo "  $link"
echo
echo "Open it in a browser, sign in as the customer admin and accept. Or by API:"
echo "  curl -s -H 'Authorization: Bearer <customer credential>' -H 'Content-Type: application/json' \\"
echo "       -d '{\"token\":\"${link##*token=}\"}' http://127.0.0.1:8080/v1/acceptances"
echo "============================================================================="
echo
