#!/usr/bin/env bash
# One pull-request comment per gate, updated on every run: comment.sh REPORT.md
#
# The comment starts with a hidden marker; the first comment of the pull request that starts with it is edited
# (PATCH), else one is posted (POST). Needs GH_TOKEN (pull-requests: write), GITHUB_REPOSITORY (owner/name) and
# PR_NUMBER; calls `gh api` (on every GitHub-hosted runner) and jq. A comment the token may not write (a pull
# request from a fork gets a read-only token) is a warning, never the gate's failure: the job summary has the report.
set -euo pipefail

report=$1
marker='<!-- driftcheck -->'
limit=65000  # GitHub refuses a comment over 65,536 characters

body=$(mktemp)
trap 'rm -f "$body"' EXIT
{
  printf '%s\n' "$marker"
  if [ "$(wc -c < "$report")" -le "$limit" ]; then
    cat "$report"
  else  # cut on a character boundary (iconv -c drops a split one), and say so
    head -c "$limit" "$report" | iconv -c -f utf-8 -t utf-8
    printf '\n\n… (cut: the whole report is in the job summary)\n'
  fi
} > "$body"

repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}
pr=${PR_NUMBER:?PR_NUMBER is not set (not a pull request?)}

if ! listed=$(gh api --paginate "repos/$repo/issues/$pr/comments"); then
  echo "::warning::driftcheck: could not list the comments of pull request #$pr; not commenting"
  exit 0
fi
# --paginate prints one JSON array per page: jq reads them all, one after the other.
existing=$(jq -r --arg marker "$marker" '.[] | select(.body | startswith($marker)) | .id' <<< "$listed" | head -n 1)

if [ -n "$existing" ]; then
  method=PATCH endpoint="repos/$repo/issues/comments/$existing" done=updated
else
  method=POST endpoint="repos/$repo/issues/$pr/comments" done=posted
fi
if gh api --method "$method" "$endpoint" -F "body=@$body" --silent; then
  echo "driftcheck: $done the comment on pull request #$pr" >&2
else
  echo "::warning::driftcheck: could not $method the comment on pull request #$pr (does the token have pull-requests: write?)"
fi
