#!/bin/sh
# Independent bootstrap MAC vectors (security.md §9): MAC = hex(HMAC-SHA1(key,
# message bytes)), computed with openssl only, never with the code under test.
# Run from this directory:  sh bootstrap-vectors.sh > bootstrap-vectors.txt
# Output: "name key mac" per line; bootstrap.msg is a small binary (WBXML-like)
# message with NUL bytes.
set -eu
mac() { openssl dgst -sha1 -hmac "$1" < "$2" | sed 's/^.*= //'; }
echo "networkid 310150123456789 $(mac 310150123456789 bootstrap.msg)"
echo "userpin 1234 $(mac 1234 bootstrap.msg)"
echo "userpin_networkid 1234:310150123456789 $(mac 1234:310150123456789 bootstrap.msg)"
