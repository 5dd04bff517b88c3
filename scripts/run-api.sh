#!/usr/bin/env bash
# Runs the API on the embedded SQLite default, migrated, with a bootstrap admin token.
set -euo pipefail
export SWITCHYARD_DATABASE_URL="${SWITCHYARD_DATABASE_URL:-sqlite:///./switchyard.db}"
export SWITCHYARD_HTTP_LISTEN="${SWITCHYARD_HTTP_LISTEN:-127.0.0.1:8080}"
export SWITCHYARD_ADMIN_TOKEN="${SWITCHYARD_ADMIN_TOKEN:-$(python -c 'import secrets; print("sy_" + secrets.token_urlsafe(24))')}"
switchyard-api migrate
cat <<MSG

Switchyard API on http://${SWITCHYARD_HTTP_LISTEN} (database: ${SWITCHYARD_DATABASE_URL})
Admin token: ${SWITCHYARD_ADMIN_TOKEN}
Try:
  curl -H 'Authorization: Bearer ${SWITCHYARD_ADMIN_TOKEN}' http://${SWITCHYARD_HTTP_LISTEN}/v1/namespaces
  switchyard --api http://${SWITCHYARD_HTTP_LISTEN} --token ${SWITCHYARD_ADMIN_TOKEN} get nodes
OpenAPI: http://${SWITCHYARD_HTTP_LISTEN}/docs

MSG
exec switchyard-api serve
